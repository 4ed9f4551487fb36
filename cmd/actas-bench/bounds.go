package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/cputime"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/token"
)

// bounds are this machine's crypto limits, measured in the same run as the
// load: the cost of one argon2id hash at the server's parameters and of
// one signature with the tenant's algorithm, each on one core.
type bounds struct {
	CPUs   int           `json:"cpus"`
	Hash   time.Duration `json:"hashNs"`
	Sign   time.Duration `json:"signNs"`
	Alg    string        `json:"alg"`
	SignIn float64       `json:"signinBoundPerSec"` // CPUs / hash
	// HashParallel is the CPU time of one hash while CPUs hashes run at
	// once, as they do under a sign-in load: argon2id is bound by memory
	// bandwidth and shared caches, so it is usually dearer than Hash.
	HashParallel   time.Duration `json:"hashParallelNs"`
	SignInParallel float64       `json:"signinParallelBoundPerSec"` // CPUs / HashParallel
	Refresh        float64       `json:"refreshBoundPerSec"`        // CPUs / (2 × sign)
	HashParam      string        `json:"hashParams"`
}

func measureBounds(p password.Params, alg string) (*bounds, error) {
	b := &bounds{CPUs: runtime.NumCPU(), Alg: alg,
		HashParam: fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)}
	// Costs are CPU time of this process (idle but for the measurement),
	// not wall time: on a shared machine other processes' load would
	// otherwise inflate them. (argon2 runs its lanes on goroutines of its
	// own, so a thread clock would miss them.) argon2id: median of 7 after
	// one warm-up.
	password.Hash("warm-up", p)
	var hs []time.Duration
	for range 7 {
		t0 := selfCPU()
		password.Hash("correct horse battery staple", p)
		hs = append(hs, selfCPU()-t0)
	}
	slices.Sort(hs)
	b.Hash = hs[len(hs)/2]
	// The same with every CPU hashing: three rounds of CPUs hashes at
	// once, CPU time per hash of the median round.
	var ps []time.Duration
	for range 3 {
		var wg sync.WaitGroup
		t0 := selfCPU()
		for range b.CPUs {
			wg.Go(func() { password.Hash("correct horse battery staple", p) })
		}
		wg.Wait()
		ps = append(ps, (selfCPU()-t0)/time.Duration(b.CPUs))
	}
	slices.Sort(ps)
	b.HashParallel = ps[len(ps)/2]

	// One signature: GenerateKey + LoadKey + Sign, as the server signs.
	sealer, err := token.NewSealer(make([]byte, 32))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	sk, err := token.GenerateKey(sealer, "bench", actas.KeyUseAccess, alg, now)
	if err != nil {
		return nil, err
	}
	k, err := token.LoadKey(sealer, sk)
	if err != nil {
		return nil, err
	}
	c := &token.Claims{Sub: actas.NewID(), EventID: actas.NewID(), TokenUse: "access", Scope: "aws.cognito.signin.user.admin",
		AuthTime: now.Unix(), Iss: "http://127.0.0.1:8080/local_abcdefghi", Exp: now.Add(time.Hour).Unix(), Iat: now.Unix(),
		Jti: actas.NewID(), OriginJti: actas.NewID(), ClientID: "abcdefghijklmnopqrstuvwxyz", Username: "u0001"}
	var ss []time.Duration
	for range 7 {
		n := 0
		t0 := selfCPU()
		for selfCPU()-t0 < 60*time.Millisecond {
			if _, err := k.Sign(c); err != nil {
				return nil, err
			}
			n++
		}
		ss = append(ss, (selfCPU()-t0)/time.Duration(n))
	}
	slices.Sort(ss)
	b.Sign = ss[len(ss)/2]
	b.SignIn = float64(b.CPUs) / b.Hash.Seconds()
	b.SignInParallel = float64(b.CPUs) / b.HashParallel.Seconds()
	b.Refresh = float64(b.CPUs) / (2 * b.Sign.Seconds())
	return b, nil
}

// procStat is a process's CPU time so far and its peak resident set.
type procStat struct {
	CPU   time.Duration
	HWM   int64 // VmHWM, bytes
	RSS   int64 // VmRSS, bytes
	Valid bool
}

var clkTck = 100 // sysconf(_SC_CLK_TCK) on Linux

func readProc(pid int) procStat {
	var ps procStat
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ps
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return ps
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	ps.CPU = time.Duration(ut+st) * time.Second / time.Duration(clkTck)
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []struct {
			name string
			dst  *int64
		}{{"VmHWM:", &ps.HWM}, {"VmRSS:", &ps.RSS}} {
			if rest, ok := strings.CutPrefix(line, k.name); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				*k.dst = kb * 1024
			}
		}
	}
	ps.Valid = true
	return ps
}

// selfCPU is this process's CPU time (the load generator's own cost).
func selfCPU() time.Duration { return cputime.Process() }
