package main

import "runtime/debug"

// version is set at link time (-ldflags "-X main.version=v1.2.3");
// otherwise the module version from the build info is used.
var version = ""

func buildInfo() (ver, commit string) {
	ver, commit = version, "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return orDev(ver), commit
	}
	if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		ver = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return orDev(ver), commit
}

func orDev(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}
