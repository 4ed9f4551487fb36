package main

import "github.com/actas-dev/actas"

// issuerRandom returns n random lowercase alphanumerics.
func issuerRandom(n int) string {
	s := ""
	for len(s) < n {
		s += actas.NewClientID()
	}
	return s[:n]
}
