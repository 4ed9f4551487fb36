package drvbench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"
)

var (
	seedPath string
	stores   = map[string]Store{}
	dir      string
)

func TestMain(m *testing.M) {
	var err error
	if dir, err = os.MkdirTemp("", "drvbench"); err != nil {
		panic(err)
	}
	seedPath = filepath.Join(dir, "seed.db")
	if err := Seed(seedPath); err != nil {
		panic(err)
	}
	code := m.Run()
	for _, s := range stores {
		s.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// store returns driver name's store on its own copy of the seed, opened
// once per process.
func store(tb testing.TB, name string) Store {
	if s := stores[name]; s != nil {
		return s
	}
	path := filepath.Join(dir, name+".db")
	if err := CopyFile(path, seedPath); err != nil {
		tb.Fatal(err)
	}
	s, err := Open(name, path)
	if err != nil {
		tb.Fatal(err)
	}
	stores[name] = s
	return s
}

// run runs fn as a sub-benchmark per driver, reporting CPU time (user and
// system, getrusage) per op beside wall time: the write scenarios' wall
// time is mostly fsync.
func run(b *testing.B, fn func(b *testing.B, s Store)) {
	for _, name := range Drivers {
		b.Run(name, func(b *testing.B) {
			s := store(b, name)
			if err := s.Checkpoint(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, ustart := cpuTime(), userTime()
			fn(b, s)
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(userTime()-ustart)/float64(b.N), "user-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time; userTime its user
// time alone: the driver's own work, without the kernel's (fsync, file
// locks, reads and writes of the file).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func userTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano())
}

// Hashes of the seed's tokens, made before the timer starts.
var seedHashes = func() [][]byte {
	h := make([][]byte, NumSessions)
	for i := range h {
		h[i] = SeedHash(i)
	}
	return h
}()

var (
	sessionIDs = ids(NumSessions, SessionID)
	userIDs    = ids(NumUsers, UserID)
)

func ids(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// (a) The read of every refresh: token and session by the token's hash.
func BenchmarkSessionByRefresh(b *testing.B) {
	run(b, func(b *testing.B, s Store) {
		var (
			rt RefreshToken
			x  Session
		)
		for i := 0; i < b.N; i++ {
			if err := s.SessionByRefresh(seedHashes[(i*7919)%NumSessions], &rt, &x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// (b) The user read of every refresh and expire.
func BenchmarkUser(b *testing.B) {
	run(b, func(b *testing.B, s Store) {
		var u User
		for i := 0; i < b.N; i++ {
			if err := s.User(TenantID, userIDs[(i*7919)%NumUsers], &u); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// newTokens returns n new refresh tokens for a run, unique across runs
// and drivers (they share nothing, but a process runs each count).
func newTokens(n int) []RefreshToken {
	tag := fmt.Sprint(time.Now().UnixNano())
	rts := make([]RefreshToken, n)
	for i := range rts {
		rts[i] = RefreshToken{Hash: Hash(tag, int64(i)), Generation: 2, CreatedAt: t0 + int64(i)}
	}
	return rts
}

// (c) A refresh's durable write, alone in its transaction: BEGIN
// IMMEDIATE, read the session, update it, insert the new token, COMMIT
// with an fsync (synchronous=FULL, WAL).
func BenchmarkRotate(b *testing.B) {
	run(b, func(b *testing.B, s Store) {
		b.StopTimer()
		rts := newTokens(b.N)
		b.StartTimer()
		for i := 0; i < b.N; i++ {
			if err := s.Rotate(sessionIDs[(i*7919)%NumSessions], &rts[i], t0+int64(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// groupSize is a batch of group commit under load (actas groups up to 128
// members; 16 is what 16-32 concurrent refreshers make).
const groupSize = 16

// (c') The same write as group commit runs it under load: groupSize
// members, each in a SAVEPOINT, one COMMIT. One op is one member.
func BenchmarkRotateGroup16(b *testing.B) {
	run(b, func(b *testing.B, s Store) {
		b.StopTimer()
		rts := newTokens(b.N)
		b.StartTimer()
		ids := make([]string, groupSize)
		for i := 0; i < b.N; i += groupSize {
			n := min(groupSize, b.N-i)
			for j := range n {
				ids[j] = sessionIDs[((i+j)*7919)%NumSessions]
			}
			if err := s.RotateGroup(ids[:n], rts[i:i+n], t0+int64(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// (d) A revocation: one UPDATE of a session by id, durable on its own.
func BenchmarkRevoke(b *testing.B) {
	run(b, func(b *testing.B, s Store) {
		for i := 0; i < b.N; i++ {
			if err := s.Revoke(sessionIDs[(i*7919)%NumSessions], t0+int64(i), "user"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpen is the cost of a connection: open the writer and the
// reader, prepare the statements, read one session, close.
func BenchmarkOpen(b *testing.B) {
	for _, name := range Drivers {
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(dir, "open-"+name+".db")
			if err := CopyFile(path, seedPath); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, ustart := cpuTime(), userTime()
			for i := 0; i < b.N; i++ {
				s, err := Open(name, path)
				if err != nil {
					b.Fatal(err)
				}
				var (
					rt RefreshToken
					x  Session
				)
				if err := s.SessionByRefresh(seedHashes[i%NumSessions], &rt, &x); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(userTime()-ustart)/float64(b.N), "user-ns/op")
		})
	}
}

// TestSameResults checks that every driver reads and writes the same
// rows, so that the benchmarks compare the same work.
func TestSameResults(t *testing.T) {
	type result struct {
		RT   RefreshToken
		S, R Session
		U    User
	}
	var want *result
	for _, name := range Drivers {
		s := store(t, name)
		var got result
		if err := s.SessionByRefresh(SeedHash(42), &got.RT, &got.S); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := s.User(TenantID, UserID(42), &got.U); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rt := RefreshToken{Hash: Hash("same-"+name, 1), Generation: 2, CreatedAt: t0 + 5}
		if err := s.Rotate(SessionID(43), &rt, t0+5); err != nil {
			t.Fatalf("%s: rotate: %v", name, err)
		}
		rts := []RefreshToken{{Hash: Hash("same-g-"+name, 1), Generation: 3, CreatedAt: t0 + 6}}
		if err := s.RotateGroup([]string{SessionID(43)}, rts, t0+6); err != nil {
			t.Fatalf("%s: rotate group: %v", name, err)
		}
		if err := s.Revoke(SessionID(43), t0+7, "user"); err != nil {
			t.Fatalf("%s: revoke: %v", name, err)
		}
		var rt2 RefreshToken
		if err := s.SessionByRefresh(rts[0].Hash, &rt2, &got.R); err != nil {
			t.Fatalf("%s: read back: %v", name, err)
		}
		if !bytes.Equal(rt2.Hash, rts[0].Hash) || rt2.SessionID != SessionID(43) || rt2.Generation != 3 {
			t.Fatalf("%s: read back token %+v", name, rt2)
		}
		if got.R.RefreshGeneration != 3 || got.R.LastRefreshAt != t0+6 || got.R.RevokedAt != t0+7 || got.R.RevokeReason != "user" {
			t.Fatalf("%s: read back session %+v", name, got.R)
		}
		if err := s.Revoke("nope", t0, "user"); err == nil {
			t.Fatalf("%s: revoke of a missing session did not fail", name)
		}
		if err := s.User(TenantID, "nope", &got.U); err == nil {
			t.Fatalf("%s: read of a missing user did not fail", name)
		}
		if err := s.User(TenantID, UserID(42), &got.U); err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = &got
			if got.S.UserAgent == "" || !got.S.Refreshable || got.U.Phone == "" || !got.U.EmailVerified {
				t.Fatalf("seed read back wrong: %+v", got)
			}
			continue
		}
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("%s read\n%+v\nwant (%s)\n%+v", name, got, Drivers[0], *want)
		}
	}
}
