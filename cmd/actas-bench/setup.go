package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/postgres"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// state is what --setup creates and later runs reuse: the bench tenant,
// its API key and its users (all with one password).
type state struct {
	Tenant       string   `json:"tenant"`
	TenantID     string   `json:"tenantId"`
	UserPoolID   string   `json:"userPoolId"`
	ClientID     string   `json:"clientId"`
	APIKey       string   `json:"apiKey"`
	Alg          string   `json:"alg"`
	Password     string   `json:"password"`
	Users        []string `json:"users"`
	Impersonator string   `json:"impersonator"`
}

// target is the database the server uses, as its --db names it.
type target struct {
	spec string // as given
	dsn  string // PostgreSQL: the postgres:// URL
	path string // SQLite: the database file
}

func (t target) postgres() bool { return t.dsn != "" }

func parseTarget(db string) (target, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return target{spec: db, dsn: db}, nil
	}
	p := strings.TrimPrefix(db, "sqlite:")
	if p == "" {
		return target{}, errors.New("-db is required (the same --db the server uses: sqlite:PATH or postgres://…)")
	}
	return target{spec: db, path: p}, nil
}

// defaultState is where -setup writes its state unless -state says: beside
// a SQLite database; a PostgreSQL database has no directory, so there
// -state is required.
func defaultState(t target) (string, error) {
	if t.postgres() {
		return "", errors.New("-state is required with a postgres:// -db")
	}
	return filepath.Join(filepath.Dir(t.path), "bench-state.json"), nil
}

// masterKey returns ACTAS_MASTER_KEY or, on SQLite, the key file the
// server keeps beside its database; it never creates one, so that the
// bench cannot diverge from the server. PostgreSQL servers always take
// the key from the environment.
func masterKey(t target) ([]byte, error) {
	if v := os.Getenv("ACTAS_MASTER_KEY"); v != "" {
		return token.ParseMasterKey(v)
	}
	if t.postgres() {
		return nil, errors.New("ACTAS_MASTER_KEY is required with a postgres:// -db (the key the server runs with)")
	}
	f := filepath.Join(filepath.Dir(t.path), "master.key")
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("no ACTAS_MASTER_KEY and cannot read %s (start the server once to create it): %w", f, err)
	}
	return token.ParseMasterKey(strings.TrimSpace(string(b)))
}

// openStore opens the server's store, which also applies any pending
// migration, exactly as the server does.
func openStore(ctx context.Context, t target) (actas.Store, error) {
	if t.postgres() {
		return postgres.Open(ctx, t.dsn)
	}
	return sqlite.Open(ctx, t.path)
}

// env is the store and an issuer on it, opened exactly as the server
// opens them (same database, same master key).
type env struct {
	db     actas.Store
	target target
	sealer *token.Sealer
	iss    *issuer.Issuer
}

func openEnv(ctx context.Context, dbSpec, publicURL string, params password.Params) (*env, error) {
	t, err := parseTarget(dbSpec)
	if err != nil {
		return nil, err
	}
	mk, err := masterKey(t)
	if err != nil {
		return nil, err
	}
	sealer, err := token.NewSealer(mk)
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, t)
	if err != nil {
		return nil, err
	}
	n := runtime.NumCPU()
	iss := issuer.New(issuer.Config{
		Store: db, Sealer: sealer, PublicURL: publicURL,
		Hasher: password.NewHasher(params, n, 10000, time.Hour),
	})
	return &env{db: db, target: t, sealer: sealer, iss: iss}, nil
}

// setup creates a fresh tenant with nUsers users and one impersonator.
func setup(ctx context.Context, e *env, alg string, nUsers int) (*state, error) {
	name := "bench-" + actas.RandomLower(8)
	t, key, err := e.iss.CreateTenant(ctx, issuer.CreateTenantRequest{
		Name: name, EndpointURL: "http://127.0.0.1/bench",
		Settings: actas.TenantSettings{SigningAlg: alg},
	})
	if err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	st := &state{Tenant: name, TenantID: t.ID, UserPoolID: t.UserPoolID, ClientID: t.ClientID, APIKey: key,
		Alg: t.Settings.SigningAlg, Password: "pw-" + actas.RandomLower(20), Impersonator: "imp"}
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	create := func(username string, groups []string) {
		defer wg.Done()
		sem <- struct{}{}
		defer func() { <-sem }()
		_, err := e.iss.CreateUser(ctx, issuer.CreateUserRequest{Tenant: name, Username: username,
			Password: st.Password, Email: username + "@bench.invalid", EmailVerified: true, Groups: groups})
		if err != nil {
			mu.Lock()
			firstErr = cmpErr(firstErr, fmt.Errorf("create user %s: %w", username, err))
			mu.Unlock()
		}
	}
	wg.Add(1)
	go create(st.Impersonator, []string{"impersonator"})
	for i := range nUsers {
		u := fmt.Sprintf("u%04d", i)
		st.Users = append(st.Users, u)
		wg.Add(1)
		go create(u, nil)
	}
	wg.Wait()
	return st, firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func saveState(path string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read state (run with -setup first): %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return &st, nil
}

// prepared is one live session with the tokens a client holds: the JSON
// of a sign-in response, which clients post back to refresh and expire.
type prepared struct {
	ID          string
	IDToken     string
	AccessToken string
	Body        []byte // the sign-in response body
}

// signupResponse is the 200 body shape of /auth/* (SPEC §3).
type authResponse struct {
	EndpointURL string      `json:"endpointUrl"`
	ClientID    string      `json:"clientId"`
	UserPoolID  string      `json:"userPoolId"`
	Username    string      `json:"username"`
	Password    string      `json:"password"`
	Session     sessionJSON `json:"session"`
}

type sessionJSON struct {
	Authorization string `json:"authorization"`
	AccessToken   string `json:"accessToken"`
	RefreshToken  string `json:"refreshToken"`
	ExpireEpoch   int64  `json:"expireEpoch"`
}

// prepareSessions writes n sessions of the given users straight into the
// store (batched transactions) and signs their ID and access tokens with
// the tenant's own keys, as the server would have at sign-in. It saves
// the load run from signing in n times through argon2id.
func prepareSessions(ctx context.Context, e *env, st *state, publicURL string, usernames []string, n int) ([]*prepared, error) {
	if n <= 0 {
		return nil, nil
	}
	t, err := e.db.TenantByName(ctx, st.Tenant)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", st.Tenant, err)
	}
	t.Settings = t.Settings.WithDefaults()
	users := make([]*actas.User, len(usernames))
	for i, name := range usernames {
		if users[i], err = e.db.UserByUsername(ctx, t.ID, name); err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
	}
	now := time.Now().Truncate(time.Second)
	idKey, accessKey, err := signers(ctx, e, t, now)
	if err != nil {
		return nil, err
	}
	out := make([]*prepared, n)
	rows := make([]seedRow, n)
	refresh := make([]string, n)
	for i := range n {
		var b [32]byte
		_, _ = rand.Read(b[:])
		refresh[i] = base64.RawURLEncoding.EncodeToString(b[:])
		h := sha256.Sum256([]byte(refresh[i]))
		rows[i] = seedRow{id: actas.NewID(), userID: users[i%len(users)].ID, hash: h[:]}
	}
	w, err := openWriter(ctx, e.target, false, 0)
	if err != nil {
		return nil, err
	}
	err = w.writeSessions(ctx, t, rows, now)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("prepare sessions: %w", err)
	}
	iss := strings.TrimRight(publicURL, "/") + "/" + t.UserPoolID
	exp := now.Add(t.Settings.AccessTTL.D())
	var wg sync.WaitGroup
	errc := make(chan error, runtime.NumCPU())
	for w := range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += runtime.NumCPU() {
				u := users[i%len(users)]
				ev := actas.NewID()
				email, verified := u.Email, u.EmailVerified
				idc := token.Claims{Sub: u.ID, Aud: t.ClientID, Email: &email, EmailVerified: &verified, EventID: ev,
					TokenUse: "id", AuthTime: now.Unix(), Iss: iss, CognitoUsername: u.Username, Exp: exp.Unix(),
					Iat: now.Unix(), Jti: actas.NewID(), OriginJti: rows[i].id, Groups: u.Groups}
				acc := token.Claims{Sub: u.ID, EventID: ev, TokenUse: "access", Scope: "aws.cognito.signin.user.admin",
					AuthTime: now.Unix(), Iss: iss, Exp: exp.Unix(), Iat: now.Unix(), Jti: actas.NewID(),
					OriginJti: rows[i].id, ClientID: t.ClientID, Username: u.Username, Groups: u.Groups}
				idTok, err1 := idKey.Sign(&idc)
				accTok, err2 := accessKey.Sign(&acc)
				if err := cmpErr(err1, err2); err != nil {
					errc <- err
					return
				}
				body, _ := json.Marshal(authResponse{EndpointURL: t.EndpointURL, ClientID: t.ClientID,
					UserPoolID: t.UserPoolID, Username: u.Username,
					Session: sessionJSON{Authorization: idTok, AccessToken: accTok, RefreshToken: refresh[i],
						ExpireEpoch: exp.UnixMilli()}})
				out[i] = &prepared{ID: rows[i].id, IDToken: idTok, AccessToken: accTok, Body: body}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("sign prepared tokens: %w", err)
	}
	return out, nil
}

// signers picks the keys the server signs with at now: of each use, the
// active key of the tenant's algorithm activated last.
func signers(ctx context.Context, e *env, t *actas.Tenant, now time.Time) (id, access *token.Key, err error) {
	stored, err := e.db.SigningKeys(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	best := map[string]*actas.SigningKey{}
	since := func(k *actas.SigningKey) time.Time {
		if k.ActivateAt.IsZero() {
			return k.CreatedAt
		}
		return k.ActivateAt
	}
	for _, k := range stored {
		if k.Alg != t.Settings.SigningAlg || k.ActivateAt.After(now) {
			continue
		}
		if b := best[k.Use]; b == nil || since(k).After(since(b)) {
			best[k.Use] = k
		}
	}
	for _, use := range []string{actas.KeyUseID, actas.KeyUseAccess} {
		k := best[use]
		if k == nil {
			return nil, nil, fmt.Errorf("tenant %s has no %s key for %s tokens", t.Name, t.Settings.SigningAlg, use)
		}
		key, err := token.LoadKey(e.sealer, k)
		if err != nil {
			return nil, nil, err
		}
		if use == actas.KeyUseID {
			id = key
		} else {
			access = key
		}
	}
	return id, access, nil
}
