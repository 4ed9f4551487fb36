package main

import (
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The three /auth/* operations must stay compatible with the original
// API's descriptions (third-party reference data kept beside the
// repository in ../shared/reference, not copied into it): same paths and
// methods, same header parameters, every documented status, and every
// property of their request and response schemas present in ours with a
// compatible type.

// referenceSchemas are the schemas compared property by property.
// GeneralErrorMessageResponse ({detail, message}) is the original
// gateway's 502 body, which actas never sends; it is not compared.
var referenceSchemas = map[string]bool{
	"AuthRequest": true, "AuthResponse": true, "ImpersonateRequest": true, "ImpersonateResponse": true,
	"ErrorResponse": true, "AuthExpireRequest": true, "AuthExpireResponse": true,
}

func TestOpenAPICompatibleWithReference(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "reference") // beside the module root
	files, _ := filepath.Glob(filepath.Join(dir, "tenovos-v1*.oas.yaml"))
	if len(files) == 0 {
		t.Skipf("reference descriptions not found in %s (they live beside the repository, in shared/reference); skipping", dir)
	}
	ours := loadOpenAPI(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			// v1.5 refers to files that were never published with it
			// (v2/requests/…) for operations other than ours: stand an
			// empty schema in for them.
			loader := openapi3.NewLoader()
			loader.IsExternalRefsAllowed = true
			loader.ReadFromURIFunc = func(*openapi3.Loader, *url.URL) ([]byte, error) { return []byte("{}"), nil }
			ref, err := loader.LoadFromDataWithPath(b, &url.URL{Path: file})
			if err != nil {
				t.Fatalf("load %s: %v", file, err)
			}
			compared := 0
			for _, path := range []string{"/auth/token", "/auth/impersonate"} {
				theirItem := ref.Paths.Find(path)
				ourItem := ours.Paths.Find(path)
				if theirItem == nil {
					continue
				}
				if ourItem == nil {
					t.Errorf("%s: not in our description", path)
					continue
				}
				for method, theirs := range theirItem.Operations() {
					op := ourItem.GetOperation(method)
					where := method + " " + path
					if op == nil {
						t.Errorf("%s: not in our description", where)
						continue
					}
					compared++
					compareOperation(t, where, theirs, op)
				}
			}
			if compared != 3 {
				t.Errorf("compared %d operations, want 3 (POST and DELETE /auth/token, POST /auth/impersonate)", compared)
			}
		})
	}
}

func compareOperation(t *testing.T, where string, theirs, ours *openapi3.Operation) {
	t.Helper()
	for _, p := range theirs.Parameters {
		tp := p.Value
		if tp.In != "header" || strings.EqualFold(tp.Name, "Content-Type") {
			continue // OpenAPI ignores a Content-Type parameter
		}
		op := ours.Parameters.GetByInAndName("header", tp.Name)
		switch {
		case op == nil:
			t.Errorf("%s: header parameter %s is missing", where, tp.Name)
		case tp.Required && !op.Required:
			// Fine: we accept more. Recorded for the reader.
		case !compatible(tp.Schema.Value, op.Schema.Value):
			t.Errorf("%s: header %s has an incompatible type", where, tp.Name)
		}
	}
	if rb := theirs.RequestBody; rb != nil && rb.Value != nil {
		if ours.RequestBody == nil || ours.RequestBody.Value == nil {
			t.Errorf("%s: we describe no request body", where)
		} else {
			compareContent(t, where+" request", rb.Value.Content, ours.RequestBody.Value.Content)
		}
	}
	var statuses []string
	for status := range theirs.Responses.Map() {
		statuses = append(statuses, status)
	}
	sort.Strings(statuses)
	for _, status := range statuses {
		tr := theirs.Responses.Value(status)
		or := ours.Responses.Value(status)
		if or == nil {
			t.Errorf("%s: status %s is not in our description", where, status)
			continue
		}
		compareContent(t, where+" "+status, tr.Value.Content, or.Value.Content)
	}
}

func compareContent(t *testing.T, where string, theirs, ours openapi3.Content) {
	t.Helper()
	tm := theirs.Get("application/json")
	if tm == nil || tm.Schema == nil {
		return
	}
	name := refName(tm.Schema.Ref)
	if !referenceSchemas[name] {
		return
	}
	om := ours.Get("application/json")
	if om == nil || om.Schema == nil {
		t.Errorf("%s: we describe no application/json body (theirs is %s)", where, name)
		return
	}
	compareSchema(t, where+" "+name, tm.Schema.Value, om.Schema.Value)
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// compareSchema checks that every property of theirs exists in ours with
// a compatible type, recursively.
func compareSchema(t *testing.T, where string, theirs, ours *openapi3.Schema) {
	t.Helper()
	if !compatible(theirs, ours) {
		t.Errorf("%s: type %v is not compatible with ours %v", where, theirs.Type.Slice(), ours.Type.Slice())
		return
	}
	for name, tp := range theirs.Properties {
		op, ok := ours.Properties[name]
		if !ok {
			t.Errorf("%s: property %q is missing", where, name)
			continue
		}
		compareSchema(t, where+"."+name, tp.Value, op.Value)
	}
	if theirs.Items != nil && ours.Items != nil {
		compareSchema(t, where+"[]", theirs.Items.Value, ours.Items.Value)
	}
}

// compatible: a client of theirs can read or send our type. An integer
// is a number (expireEpoch is a number in theirs, an int64 in ours).
func compatible(theirs, ours *openapi3.Schema) bool {
	if theirs == nil || theirs.Type == nil || theirs.Type.IsEmpty() {
		return true
	}
	if ours == nil || ours.Type == nil {
		return false
	}
	for _, typ := range theirs.Type.Slice() {
		switch {
		case ours.Type.Includes(typ):
		case typ == "number" && ours.Type.Includes("integer"):
		default:
			return false
		}
	}
	return true
}
