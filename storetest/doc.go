// Package storetest is the conformance suite of actas.Store: every storage
// backend (sqlite, postgres) runs it from its own test file in a few lines,
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) actas.Store {
//			db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "actas.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		})
//	}
//
// so that both backends keep the contract written in the comments of
// actas.Store: sentinel errors, atomicity, serialised updaters, cascading
// revocation, the revocation cursor and purging.
//
// The suite assumes nothing about the database beyond that contract. Its
// clock is a fixed base time, never time.Now, and it only sleeps to widen
// race windows in the concurrency tests. Where the contract is silent the
// suite does not test (for instance the order of Tenants or Sessions, or
// whether a store writes assigned ids back into its arguments).
package storetest
