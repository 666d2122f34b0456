package main

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	specsv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// TarballEnv names the image archive the image test checks. .ci/run builds
// the image (go tool task image) and sets it.
const TarballEnv = "MINIBACK_IMAGE_TARBALL"

// imageTarball is $MINIBACK_IMAGE_TARBALL. Under CI it must be set (the
// image is a deliverable: .ci/run builds it and sets it); elsewhere the
// archive go tool task image left in build/image is used, and the test is
// skipped when there is none.
func imageTarball(t *testing.T) string {
	t.Helper()
	p := os.Getenv(TarballEnv)
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: under CI the image must be built (go tool task image) and checked", TarballEnv)
		}
		p = filepath.Join("..", "..", "build", "image", TarballName)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no image to check: run go tool task image (or set %s)", TarballEnv)
		}
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v", TarballEnv, err)
	}
	return p
}

// amd64Image unpacks the OCI archive and returns its linux/amd64 image and
// the layout's index annotations of it.
func amd64Image(t *testing.T, tarball string) (v1.Image, *v1.Manifest) {
	t.Helper()
	p, err := layout.FromPath(unpackLayout(t, tarball))
	if err != nil {
		t.Fatalf("%s is not an OCI image layout: %v", tarball, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	var found v1.Image
	err = WalkImages(idx, func(plat string, img v1.Image) error {
		if plat == "linux/amd64" {
			found = img
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == nil {
		t.Fatalf("%s holds no linux/amd64 image", tarball)
	}
	mf, err := found.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return found, mf
}

// unpackLayout unpacks the OCI archive into a temporary directory.
func unpackLayout(t *testing.T, tarball string) string {
	t.Helper()
	dir := t.TempDir()
	if err := untar(tarball, dir); err != nil {
		t.Fatalf("unpack %s: %v", tarball, err)
	}
	return dir
}

// The image's size budget, per platform. linux/amd64 was 22.9 MiB
// compressed and 62.0 MiB uncompressed when it was set. Raise a bound only
// on purpose, with the new figure in docs/operations/deploy.md and the README.
const (
	maxCompressed   = 32 << 20 // the layers as pulled
	maxUncompressed = 96 << 20 // the layers unpacked on the node
)

func TestImageSizeStaysWithinItsBudget(t *testing.T) {
	tarball := imageTarball(t)
	sizes, err := Describe(unpackLayout(t, tarball))
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) == 0 {
		t.Fatalf("%s holds no image", tarball)
	}
	for _, s := range sizes {
		t.Logf("%s: %s compressed, %s uncompressed, %d layers (base layer %s uncompressed)",
			s.Platform, mib(s.Compressed), mib(s.Uncompressed), s.Layers, mib(s.BaseUncompressed))
		if s.Compressed >= maxCompressed {
			t.Errorf("%s is %s compressed, over the %s budget: find what grew (go version -m on the binary), or raise maxCompressed on purpose", s.Platform, mib(s.Compressed), mib(maxCompressed))
		}
		if s.Uncompressed >= maxUncompressed {
			t.Errorf("%s is %s uncompressed, over the %s budget: find what grew (go version -m on the binary), or raise maxUncompressed on purpose", s.Platform, mib(s.Uncompressed), mib(maxUncompressed))
		}
	}
}

func TestImageRunsMinibackAsUser65532FromAMinimalBase(t *testing.T) {
	img, mf := amd64Image(t, imageTarball(t))

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	const entrypoint = "/ko-app/miniback"
	if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != entrypoint || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q, cmd %q; want [%s] and no cmd", cf.Config.Entrypoint, cf.Config.Cmd, entrypoint)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (numeric, so runAsNonRoot can be checked)", cf.Config.User)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if base := mf.Annotations[specsv1.AnnotationBaseImageName]; !strings.HasPrefix(base, BaseName+"@sha256:") {
		t.Errorf("base name annotation %q, want %s@sha256:… (no build-time registry address)", base, BaseName)
	}

	files := flatten(t, img)
	passwd := string(files.body(t, "etc/passwd"))
	if !regexp.MustCompile(`(?m)^nonroot:x:65532:65532:`).MatchString(passwd) {
		t.Errorf("/etc/passwd has no user 65532:\n%s", passwd)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(files.body(t, "etc/ssl/certs/ca-certificates.crt")) {
		t.Error("/etc/ssl/certs/ca-certificates.crt holds no certificate")
	}
	for _, zone := range []string{"Asia/Shanghai", "UTC", "PRC", "America/New_York"} {
		if _, err := time.LoadLocationFromTZData(zone, files.body(t, "usr/share/zoneinfo/"+zone)); err != nil {
			t.Errorf("zoneinfo %s: %v", zone, err)
		}
	}
	if h := files.headers["tmp"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp is %+v, want a directory with mode 1777 (the emptyDir's mount point)", h)
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/apt"} {
		if files.headers[shell] != nil {
			t.Errorf("the image has /%s: the base is meant to hold no shell or package manager", shell)
		}
	}

	h := files.headers[strings.TrimPrefix(entrypoint, "/")]
	if h == nil || h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
		t.Fatalf("entrypoint %s is %+v, want an executable file", entrypoint, h)
	}
	bin := filepath.Join(t.TempDir(), "miniback")
	if err := os.WriteFile(bin, files.body(t, strings.TrimPrefix(entrypoint, "/")), 0o755); err != nil {
		t.Fatal(err)
	}
	assertStatic(t, bin)
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must run on linux/amd64 to start the image's binary; this is %s/%s", runtime.GOOS, runtime.GOARCH)
		}
		t.Skipf("the image's binary is linux/amd64; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	cmd := exec.Command(bin, "--version")
	cmd.Env = []string{} // nothing configured, as in a bare container
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", entrypoint, err, out)
	}
	if !regexp.MustCompile(`^miniback \S+ go1\.\S+ linux/amd64\n$`).Match(out) {
		t.Errorf("--version printed %q, want \"miniback <version> go1.x linux/amd64\"", out)
	}
}

// assertStatic fails unless bin is an ELF executable with no dynamic
// loader: the base has no C library for one to load.
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the entrypoint is not an ELF binary: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("the binary is for %s, want x86-64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader (PT_INTERP): it was not built with CGO_ENABLED=0")
		}
	}
}

// imageFiles is an image's flattened filesystem.
type imageFiles struct {
	headers map[string]*tar.Header
	bodies  map[string][]byte
}

// body returns a regular file's bytes, following symbolic links inside the
// image.
func (f imageFiles) body(t *testing.T, name string) []byte {
	t.Helper()
	for range 10 {
		h := f.headers[name]
		if h == nil {
			t.Fatalf("the image has no /%s", name)
		}
		if h.Typeflag != tar.TypeSymlink {
			return f.bodies[name]
		}
		if path.IsAbs(h.Linkname) {
			name = strings.TrimPrefix(h.Linkname, "/")
		} else {
			name = path.Join(path.Dir(name), h.Linkname)
		}
	}
	t.Fatalf("/%s: too many symbolic links", name)
	return nil
}

func flatten(t *testing.T, img v1.Image) imageFiles {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	f := imageFiles{headers: map[string]*tar.Header{}, bodies: map[string][]byte{}}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		name = strings.TrimPrefix(name, "/")
		f.headers[name] = h
		if h.Typeflag == tar.TypeReg {
			var b bytes.Buffer
			if _, err := io.Copy(&b, tr); err != nil {
				t.Fatal(err)
			}
			f.bodies[name] = b.Bytes()
		}
	}
}

// untar unpacks an OCI archive (regular files and directories only).
func untar(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			return errors.New("entry escapes the directory: " + h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.Create(target)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
