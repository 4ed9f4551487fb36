package sqlrow

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/actas-dev/actas"
)

// TestSettingsHaveNoReferences: decodeSettings hands out copies of one
// decoded TenantSettings to every tenant with the same text, which is
// only safe while the type holds no slice, map or pointer that a copy
// would share.
func TestSettingsHaveNoReferences(t *testing.T) {
	typ := reflect.TypeOf(actas.TenantSettings{})
	for i := range typ.NumField() {
		switch f := typ.Field(i); f.Type.Kind() {
		case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func, reflect.Array, reflect.Struct:
			t.Errorf("TenantSettings.%s is a %s: decodeSettings's copies would share it", f.Name, f.Type.Kind())
		}
	}
}

func TestDecodeSettingsRemembers(t *testing.T) {
	text := `{"access_ttl":"15m0s","signing_alg":"ES256","password_min_length":12}`
	a, err := decodeSettings(text)
	if err != nil {
		t.Fatal(err)
	}
	b, err := decodeSettings(text)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a.SigningAlg != actas.AlgES256 || a.PasswordMinLength != 12 || a.AccessTTL.D().Minutes() != 15 {
		t.Fatalf("decoded %+v then %+v", a, b)
	}
	a.SigningAlg = actas.AlgRS256 // the caller's own copy
	if c, _ := decodeSettings(text); c.SigningAlg != actas.AlgES256 {
		t.Fatal("a caller's change reached the remembered settings")
	}
	if _, err := decodeSettings(`{"access_ttl":`); err == nil {
		t.Fatal("bad settings decoded")
	}
	for i := range 2 * settingsSeenMax { // bounded
		if _, err := decodeSettings(fmt.Sprintf(`{"password_min_length":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(settingsSeen.m); n > settingsSeenMax {
		t.Fatalf("%d settings texts remembered, bound %d", n, settingsSeenMax)
	}
}
