package postgres

// ChildrenQuery is the statement RevokeSessions walks the session tree
// with, for TestRevokeTreeIsIndexed.
const ChildrenQuery = childrenQuery

// UnavailableCode is the SQLSTATE classification, for TestUnavailableCodes.
var UnavailableCode = unavailableCode
