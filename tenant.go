package actas

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Tenant is one customer: its own user pool, client id, issuer, keys,
// users and settings.
type Tenant struct {
	ID          string // internal identifier (UUID)
	Name        string // unique, used by the command line
	UserPoolID  string // "<region>_<9 alphanumerics>", last segment of the issuer
	ClientID    string // 26 lowercase alphanumerics: ID token aud, access token client_id
	EndpointURL string // the customer's API base URL, returned to clients
	Settings    TenantSettings
	CreatedAt   time.Time
}

// Signing algorithms a tenant may choose.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

// TenantSettings are the per-tenant knobs. Zero values are replaced by
// defaults with WithDefaults; Validate enforces the bounds of SPEC §4.
type TenantSettings struct {
	AccessTTL  Duration `json:"access_ttl"`  // access and ID token lifetime
	RefreshTTL Duration `json:"refresh_ttl"` // absolute session lifetime from sign-in

	RefreshRotation bool     `json:"refresh_rotation"` // issue a new refresh token on every refresh
	RotationGrace   Duration `json:"rotation_grace"`   // how long the immediately previous token stays usable
	SigningAlg      string   `json:"signing_alg"`      // RS256 (default), ES256 or EdDSA

	ImpersonationDisabled      bool     `json:"impersonation_disabled"`
	ImpersonationTTL           Duration `json:"impersonation_ttl"` // upper bound on an impersonation session
	ImpersonationRequireReason bool     `json:"impersonation_require_reason"`

	// Sign-in throttling (see issuer.ThrottlePolicy): failures allowed per
	// (username, address), per address and per username before delays
	// start, and the longest delay for the first two (the per-username
	// delay is capped at a minute so it can never lock a victim out).
	ThrottlePairFailures int      `json:"throttle_pair_failures"`
	ThrottleIPFailures   int      `json:"throttle_ip_failures"`
	ThrottleUserFailures int      `json:"throttle_user_failures"`
	ThrottleMaxDelay     Duration `json:"throttle_max_delay"`

	// Automatic signing-key rotation: every KeyRotationPeriod (0: never)
	// new keys are published, and they sign after KeyRotationDelay.
	KeyRotationPeriod Duration `json:"key_rotation_period"`
	KeyRotationDelay  Duration `json:"key_rotation_delay"`

	// PasswordMinLength is the shortest password (in characters) that
	// may be set (SPEC §8): 8–128, DefaultPasswordMinLength if 0.
	PasswordMinLength int `json:"password_min_length"`

	// AccessTokenAudience, when set, is the aud claim of every access
	// token, which then follows RFC 9068 (header typ "at+jwt"), so that
	// resource servers can check the audience the usual way. Empty (the
	// default) keeps Cognito's shape: client_id and no aud.
	AccessTokenAudience string `json:"access_token_audience"`
}

// Bounds and defaults of the settings (SPEC §4).
const (
	DefaultPasswordMinLength = 8 // SPEC §8

	DefaultAccessTTL        = time.Hour
	DefaultRefreshTTL       = 30 * 24 * time.Hour
	DefaultRotationGrace    = 10 * time.Second
	DefaultImpersonationTTL = time.Hour

	MinAccessTTL  = 5 * time.Minute
	MaxAccessTTL  = 24 * time.Hour
	MinRefreshTTL = time.Hour
	MaxRefreshTTL = 3650 * 24 * time.Hour
	MaxGrace      = 5 * time.Minute

	DefaultThrottlePairFailures = 5
	DefaultThrottleIPFailures   = 50
	DefaultThrottleUserFailures = 100
	DefaultThrottleMaxDelay     = 15 * time.Minute
	MaxThrottleFailures         = 100_000
	MaxThrottleDelay            = 24 * time.Hour

	DefaultKeyRotationDelay = 10 * time.Minute
	MinKeyRotationPeriod    = 24 * time.Hour
)

// DefaultTenantSettings returns the settings of a new tenant.
func DefaultTenantSettings() TenantSettings {
	return TenantSettings{}.WithDefaults()
}

// WithDefaults fills every zero field with its default.
func (s TenantSettings) WithDefaults() TenantSettings {
	if s.AccessTTL == 0 {
		s.AccessTTL = Duration(DefaultAccessTTL)
	}
	if s.RefreshTTL == 0 {
		s.RefreshTTL = Duration(DefaultRefreshTTL)
	}
	if s.RotationGrace == 0 {
		s.RotationGrace = Duration(DefaultRotationGrace)
	}
	if s.ImpersonationTTL == 0 {
		s.ImpersonationTTL = Duration(DefaultImpersonationTTL)
	}
	if s.SigningAlg == "" {
		s.SigningAlg = AlgRS256
	}
	if s.ThrottlePairFailures == 0 {
		s.ThrottlePairFailures = DefaultThrottlePairFailures
	}
	if s.ThrottleIPFailures == 0 {
		s.ThrottleIPFailures = DefaultThrottleIPFailures
	}
	if s.ThrottleUserFailures == 0 {
		s.ThrottleUserFailures = DefaultThrottleUserFailures
	}
	if s.KeyRotationDelay == 0 {
		s.KeyRotationDelay = Duration(DefaultKeyRotationDelay)
	}
	if s.ThrottleMaxDelay == 0 {
		s.ThrottleMaxDelay = Duration(DefaultThrottleMaxDelay)
	}
	if s.PasswordMinLength == 0 {
		s.PasswordMinLength = DefaultPasswordMinLength
	}
	return s
}

// Validate reports every setting out of bounds at once.
func (s TenantSettings) Validate() error {
	var probs []string
	if d := s.AccessTTL.D(); d < MinAccessTTL || d > MaxAccessTTL {
		probs = append(probs, fmt.Sprintf("access_ttl must be between %s and %s", MinAccessTTL, MaxAccessTTL))
	}
	if d := s.RefreshTTL.D(); d < MinRefreshTTL || d > MaxRefreshTTL {
		probs = append(probs, fmt.Sprintf("refresh_ttl must be between %s and %s", MinRefreshTTL, MaxRefreshTTL))
	}
	if d := s.RotationGrace.D(); d < 0 || d > MaxGrace {
		probs = append(probs, fmt.Sprintf("rotation_grace must be between 0s and %s", MaxGrace))
	}
	if d := s.ImpersonationTTL.D(); d < time.Minute || d > MaxAccessTTL {
		probs = append(probs, fmt.Sprintf("impersonation_ttl must be between 1m0s and %s", MaxAccessTTL))
	}
	for name, n := range map[string]int{"throttle_pair_failures": s.ThrottlePairFailures,
		"throttle_ip_failures": s.ThrottleIPFailures, "throttle_user_failures": s.ThrottleUserFailures} {
		if n < 1 || n > MaxThrottleFailures {
			probs = append(probs, fmt.Sprintf("%s must be between 1 and %d", name, MaxThrottleFailures))
		}
	}
	if s.PasswordMinLength < 8 || s.PasswordMinLength > 128 {
		probs = append(probs, "password_min_length must be between 8 and 128")
	}
	if a := s.AccessTokenAudience; len(a) > 256 || strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		probs = append(probs, "access_token_audience must be at most 256 bytes without spaces or control characters")
	}
	if d := s.KeyRotationPeriod.D(); d != 0 && d < MinKeyRotationPeriod {
		probs = append(probs, fmt.Sprintf("key_rotation_period must be 0 (off) or at least %s", MinKeyRotationPeriod))
	}
	if d := s.KeyRotationDelay.D(); d < 0 || d > MaxAccessTTL {
		probs = append(probs, fmt.Sprintf("key_rotation_delay must be between 0s and %s", MaxAccessTTL))
	}
	if d := s.ThrottleMaxDelay.D(); d < time.Second || d > MaxThrottleDelay {
		probs = append(probs, fmt.Sprintf("throttle_max_delay must be between 1s and %s", MaxThrottleDelay))
	}
	switch s.SigningAlg {
	case AlgRS256, AlgES256, AlgEdDSA:
	default:
		probs = append(probs, "signing_alg must be one of RS256, ES256, EdDSA")
	}
	if len(probs) > 0 {
		return Errorf(EINVALID, "%s", strings.Join(probs, "; "))
	}
	return nil
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("1h0m0s"), so settings stay readable in storage and on the CLI.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It accepts Go
// durations and a day suffix ("30d").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a Go duration, also accepting whole days ("30d").
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || days < 0 || fmt.Sprint(days) != n {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return v, nil
}

var (
	tenantNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`)
	poolIDRE     = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)*_[A-Za-z0-9]{9}$`)
)

// ValidTenantName reports whether name is a usable tenant name: 1–63
// characters, letters, digits, '.', '_' and '-', starting with a letter or
// digit.
func ValidTenantName(name string) bool { return tenantNameRE.MatchString(name) }

// ValidUserPoolID reports whether id has the shape <region>_<9 alphanumerics>.
func ValidUserPoolID(id string) bool { return poolIDRE.MatchString(id) }

// NewUserPoolID returns a fresh "<region>_<9 alphanumerics>" id.
func NewUserPoolID(region string) string {
	if region == "" {
		region = "local"
	}
	return region + "_" + randomString(alnum, 9)
}

// NewClientID returns a fresh 26-character lowercase alphanumeric client id.
func NewClientID() string { return RandomLower(26) }
