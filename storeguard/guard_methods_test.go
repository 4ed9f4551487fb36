package storeguard

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
)

// unguarded lists the methods of actas.Store that *Guard declares but
// deliberately does not run under call or do, each with its reason. Every
// other method of actas.Store must refuse at once while the store is
// known down.
var unguarded = map[string]string{
	"PurgeExpired": "background work that may take long on a big table, never on a request path: left to the store's own bound",
	"Close":        "stops the recovery probe and closes the store, which must work while the store is known down too",
}

// storeMethods returns the method set of actas.Store, the embedded roles'
// methods included.
func storeMethods() []reflect.Method {
	st := reflect.TypeFor[actas.Store]()
	ms := make([]reflect.Method, st.NumMethod())
	for i := range ms {
		ms[i] = st.Method(i)
	}
	return ms
}

// TestGuardDeclaresEveryStoreMethod: every method of actas.Store is
// declared on *Guard in this package, none only promoted from the embedded
// store. A promoted method passes straight through to the store: no
// deadline, and no fast failure while the database is known down. (By
// reflection a promoted method looks like a declared one, so the package's
// own source is read instead.)
func TestGuardDeclaresEveryStoreMethod(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{} // method name: file
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			rt := fd.Recv.List[0].Type
			if s, ok := rt.(*ast.StarExpr); ok {
				rt = s.X
			}
			if id, ok := rt.(*ast.Ident); ok && id.Name == "Guard" {
				declared[fd.Name.Name] = name
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("found no method of Guard: is the test running in the package's directory?")
	}
	names := map[string]bool{}
	for _, m := range storeMethods() {
		names[m.Name] = true
		if _, ok := declared[m.Name]; !ok {
			t.Errorf("actas.Store.%s is only promoted from the embedded store, so it passes through unguarded: "+
				"declare it on *Guard under call or do (rolemethods.go), or, if it must not be bounded, "+
				"as a pass-through listed in unguarded with the reason", m.Name)
		}
	}
	for name := range unguarded {
		if !names[name] {
			t.Errorf("unguarded lists %s, which actas.Store no longer has", name)
		}
	}
}

// TestGuardRefusesEveryMethodWhenDown: while the store is known down,
// every method of actas.Store but those in unguarded fails at once with
// ErrKnownDown and never reaches the store underneath (whose every method
// panics here: its embedded Store is nil).
func TestGuardRefusesEveryMethodWhenDown(t *testing.T) {
	g := Wrap(struct{ actas.Store }{}, Config{RetryEvery: time.Hour})
	g.isDown.Store(true) // as settle does, without starting the recovery probe
	gv := reflect.ValueOf(g)
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	for _, m := range storeMethods() {
		if _, ok := unguarded[m.Name]; ok {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			fn := gv.MethodByName(m.Name)
			ft := fn.Type()
			if ft.NumOut() == 0 || ft.Out(ft.NumOut()-1) != errType {
				t.Fatalf("%s returns no error: list it in unguarded with the reason", m.Name)
			}
			args := make([]reflect.Value, ft.NumIn())
			for i := range args {
				if in := ft.In(i); in == ctxType {
					args[i] = reflect.ValueOf(context.Background())
				} else {
					args[i] = reflect.Zero(in)
				}
			}
			var out []reflect.Value
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s reached the store while it was known down: %v", m.Name, r)
					}
				}()
				out = fn.Call(args)
			}()
			err, _ := out[len(out)-1].Interface().(error)
			if !errors.Is(err, ErrKnownDown) {
				t.Errorf("%s while known down = %v, want ErrKnownDown", m.Name, err)
			}
		})
	}
}
