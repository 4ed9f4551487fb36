package sqlrow

import (
	"math"
	"testing"

	"github.com/actas-dev/actas"
)

// Both stores refuse a generation PostgreSQL's INTEGER cannot hold,
// through SessionArgs and RefreshTokenArgs, instead of wrapping it.
func TestGenerationRange(t *testing.T) {
	for _, n := range []int{0, 1, MaxGeneration, math.MinInt32} {
		g, err := Generation(n)
		if err != nil || g != int64(n) {
			t.Errorf("Generation(%d) = %d, %v", n, g, err)
		}
	}
	for _, n := range []int{MaxGeneration + 1, math.MinInt32 - 1} {
		if _, err := Generation(n); err == nil {
			t.Errorf("Generation(%d): no error", n)
		}
		if _, err := SessionArgs(&actas.Session{RefreshGeneration: n}); err == nil {
			t.Errorf("SessionArgs with generation %d: no error", n)
		}
		if _, err := RefreshTokenArgs("s", &actas.RefreshToken{Generation: n}); err == nil {
			t.Errorf("RefreshTokenArgs with generation %d: no error", n)
		}
	}
	if _, err := RefreshTokenArgs("s", &actas.RefreshToken{SessionID: "other"}); err == nil {
		t.Error("RefreshTokenArgs accepted a token of another session")
	}
	a, err := SessionArgs(&actas.Session{RefreshGeneration: 7})
	if err != nil || a[9] != int64(7) {
		t.Errorf("SessionArgs generation = %v, %v; want int64 7", a[9], err)
	}
}
