package main

import (
	"strings"
	"testing"
)

// TestCobraUsageErrors: an unknown command (found by cobra's lookup) and
// an unknown flag (cobra's flag parsing) are both bad usage, exit 2, with
// cobra's text and the pointer to --help, whatever that text says.
func TestCobraUsageErrors(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `actas: unknown command "frobnicate" for "actas"`},
		{[]string{"tenat"}, "Did you mean this?\n\ttenant"},
		{[]string{"tenant", "list", "--no-such-flag"}, "unknown flag: --no-such-flag"},
	} {
		out, errOut, code := h.cli("", c.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) || !strings.HasSuffix(errOut, "Run 'actas --help' for usage.\n") {
			t.Errorf("actas %v: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
	// A command that exists but fails is not bad usage.
	if _, errOut, code := h.cli("", "tenant", "show", "nosuchtenant"); code != 1 || strings.Contains(errOut, "--help") {
		t.Errorf("tenant show of a missing tenant: exit %d, stderr %q; want 1 without usage", code, errOut)
	}
}
