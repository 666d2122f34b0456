// Command buildimage builds miniback's container image with ko and no
// Docker engine (go tool task image):
//
//  1. a minimal base — CA roots, tzdata, user 65532, no shell — from the
//     host's Debian files (base.go),
//  2. served by an in-memory registry on 127.0.0.1 (registry.go), since ko
//     pulls a base only from a registry and there is no network,
//  3. ko builds ./cmd/miniback (static, CGO_ENABLED=0; deploy/ko.yaml) onto
//     it into an OCI image layout,
//  4. which is packed into one OCI archive, <out>/miniback.oci.tar
//     (pack.go).
//
// It prints how long each step took and the image's sizes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TarballName is the archive's name in the output directory.
const TarballName = "miniback.oci.tar"

// BaseName is how the image names its base (by digest): it is built here
// and pulled from nowhere.
const BaseName = "miniback/base"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "buildimage:", err)
		os.Exit(1)
	}
}

type options struct {
	root, ko, out, version string
	platforms              []v1.Platform
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("buildimage", flag.ContinueOnError)
	root := fs.String("root", "..", "the repository root, where ko builds ./cmd/miniback")
	ko := fs.String("ko", "", "the pinned ko binary (default <root>/.bin/ko, from go tool task tools:ko)")
	out := fs.String("out", "", "the output directory (default <root>/build/image)")
	platforms := fs.String("platform", "linux/amd64", "comma-separated platforms, e.g. linux/amd64,linux/arm64")
	version := fs.String("version", "", "the version miniback --version prints (default: git describe)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	o := options{ko: *ko, out: *out, version: *version}
	var err error
	if o.root, err = filepath.Abs(*root); err != nil {
		return options{}, err
	}
	if o.ko == "" {
		o.ko = filepath.Join(o.root, ".bin", "ko")
	}
	if o.out == "" {
		o.out = filepath.Join(o.root, "build", "image")
	}
	if o.ko, err = filepath.Abs(o.ko); err != nil {
		return options{}, err
	}
	if o.out, err = filepath.Abs(o.out); err != nil {
		return options{}, err
	}
	for _, s := range strings.Split(*platforms, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(s))
		if err != nil || p.OS != "linux" {
			return options{}, fmt.Errorf("-platform: %q is not a linux platform like linux/amd64", s)
		}
		o.platforms = append(o.platforms, *p)
	}
	return o, nil
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if _, err := os.Stat(o.ko); err != nil {
		return fmt.Errorf("ko: %w (go tool task tools:ko installs the pinned one)", err)
	}
	if o.version == "" {
		o.version = gitOutput(o.root, "describe", "--tags", "--always", "--dirty")
	}
	if o.version == "" {
		o.version = "devel"
	}
	created := sourceDate(o.root)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(o.out, ".work-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	layoutDir := filepath.Join(work, "layout")

	t := time.Now()
	src := DefaultBaseSources()
	src.Created = created
	base, err := BaseIndex(src, o.platforms)
	if err != nil {
		return fmt.Errorf("base image: %w", err)
	}
	reg, err := startRegistry()
	if err != nil {
		return err
	}
	defer reg.close()
	baseRef, err := reg.push(ctx, BaseName, base)
	if err != nil {
		return err
	}
	fmt.Printf("base image %s built and served in %s\n", baseRef, time.Since(t).Round(time.Millisecond))

	t = time.Now()
	if err := koBuild(ctx, o, baseRef, layoutDir, created); err != nil {
		return err
	}
	fmt.Printf("ko build (%s) took %s\n", o.version, time.Since(t).Round(time.Millisecond))
	if err := renameBase(layoutDir, baseRef, BaseName+baseRef[strings.LastIndex(baseRef, "@"):], "miniback:"+tagFor(o.version)); err != nil {
		return fmt.Errorf("name the base: %w", err)
	}

	t = time.Now()
	tarball := filepath.Join(o.out, TarballName)
	if err := packLayout(layoutDir, tarball, created); err != nil {
		return fmt.Errorf("pack the OCI layout: %w", err)
	}
	st, err := os.Stat(tarball)
	if err != nil {
		return err
	}
	sizes, err := Describe(layoutDir)
	if err != nil {
		return err
	}
	fmt.Printf("packed %s in %s: %s\n", tarball, time.Since(t).Round(time.Millisecond), mib(st.Size()))
	for _, s := range sizes {
		fmt.Printf("  %s %s: %d layers, %s compressed, %s uncompressed (base layer %s uncompressed)\n",
			s.Platform, s.Digest, s.Layers, mib(s.Compressed), mib(s.Uncompressed), mib(s.BaseUncompressed))
	}
	return nil
}

// koBuild runs the pinned ko at the repository root: no push, the result
// written as an OCI layout.
func koBuild(ctx context.Context, o options, baseRef, layoutDir string, created time.Time) error {
	plats := make([]string, len(o.platforms))
	for i, p := range o.platforms {
		plats[i] = p.String()
	}
	cmd := exec.CommandContext(ctx, o.ko, "build", "./cmd/miniback",
		"--push=false", "--oci-layout-path="+layoutDir, "--platform="+strings.Join(plats, ","),
		// ko's SBOM goes into the layout as a separate artifact some
		// tools refuse; the Go binary carries its module list anyway
		// (go version -m).
		"--sbom=none", "--bare", "--tags="+tagFor(o.version))
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(),
		"KO_DEFAULTBASEIMAGE="+baseRef,
		"KO_CONFIG_PATH="+filepath.Join(o.root, "deploy", "ko.yaml"),
		"KO_DOCKER_REPO=miniback",
		"MINIBACK_VERSION="+o.version,
		"SOURCE_DATE_EPOCH="+strconv.FormatInt(created.Unix(), 10),
		// No cache of pulled bases on disk: the base is in memory.
		"KOCACHE=",
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ko build: %w", err)
	}
	return nil
}

// tagFor turns a git describe output into a valid image tag.
func tagFor(version string) string {
	tag := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, version)
	if len(tag) > 128 {
		tag = tag[:128]
	}
	return tag
}

// sourceDate is SOURCE_DATE_EPOCH, else the last commit's time, else the
// Unix epoch: a fixed time, so an unchanged tree builds the same image.
func sourceDate(root string) time.Time {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s = gitOutput(root, "log", "-1", "--format=%ct")
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC()
	}
	return time.Unix(0, 0).UTC()
}

func gitOutput(dir string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n) }
