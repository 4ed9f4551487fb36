package actas

// RevocationNotifier is implemented by a Store that can tell, sooner than
// the next poll, that another replica may have appended revocations (the
// PostgreSQL store does, with LISTEN/NOTIFY). Followers of the revocation
// cursor check for it with a type assertion and sync when the channel
// receives; they keep polling as well, since a notification can be lost
// (a broken listening connection) and only the cursor is authoritative.
type RevocationNotifier interface {
	// RevocationsChanged returns a channel that receives (a coalesced
	// signal, never closed) after revocations were committed, and after
	// the listener reconnected, when some may have been missed. Every
	// call returns the same channel; one follower should drain it.
	RevocationsChanged() <-chan struct{}
}
