package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release this binary was built from, set by the image
// build with -ldflags "-X main.version=v1.2.3" (deploy/ko.yaml). Empty, the
// version comes from the module's build information.
var version string

// versionLine describes the build: the release, the commit when the Go
// toolchain stamped one, the Go version and the platform. It reads nothing
// from the environment or the disk, so it answers even where the
// configuration is invalid or the root filesystem is read-only.
func versionLine() string {
	v, commit, modified := version, "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	line := "miniback " + v
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if modified {
			commit += "-dirty"
		}
		line += " (" + commit + ")"
	}
	return fmt.Sprintf("%s %s %s/%s", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
