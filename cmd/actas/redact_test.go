package main

import "testing"

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://actas:s3cr3t@db.example/actas":                          "postgres://actas:REDACTED@db.example/actas",
		"postgres://actas@db.example/actas?sslmode=disable&password=s3cr3t": "postgres://actas@db.example/actas?sslmode=disable&password=REDACTED",
		"postgres://actas:a@db.example/x?PASSWORD=b":                        "postgres://actas:REDACTED@db.example/x?PASSWORD=REDACTED",
		"postgres://actas@db.example/actas?sslmode=disable":                 "postgres://actas@db.example/actas?sslmode=disable",
		"sqlite:/data/actas.db":                                             "sqlite:/data/actas.db",
	} {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
