package main

import (
	"archive/tar"
	"errors"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var testPlatforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}

func testSources() BaseSources {
	src := DefaultBaseSources()
	src.Created = time.Unix(1_700_000_000, 0).UTC()
	return src
}

func TestBaseIsTheSameImageFromTheSameSources(t *testing.T) {
	a, err := BaseIndex(testSources(), testPlatforms)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BaseIndex(testSources(), testPlatforms)
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds from the same sources: %s and %s; want one digest", da, db)
	}
}

func TestBaseHasOneImagePerPlatformRunningAsNonRoot(t *testing.T) {
	idx, err := BaseIndex(testSources(), testPlatforms)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	err = WalkImages(idx, func(plat string, img v1.Image) error {
		seen = append(seen, plat)
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		if cf.Config.User != "65532:65532" || cf.Config.WorkingDir != "/home/nonroot" || cf.Platform().String() != plat {
			t.Errorf("%s: user %q, workdir %q, platform %s", plat, cf.Config.User, cf.Config.WorkingDir, cf.Platform())
		}
		if !cf.Created.Time.Equal(testSources().Created) {
			t.Errorf("%s: created %s, want the source date", plat, cf.Created.Time)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != "linux/amd64" || seen[1] != "linux/arm64" {
		t.Errorf("platforms %v, want linux/amd64 and linux/arm64", seen)
	}
}

func TestBaseLayerKeepsZoneAliasesAndDropsLinksToTheHost(t *testing.T) {
	layer, err := baseLayer(testSources())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
		if !h.ModTime.Equal(testSources().Created) {
			t.Errorf("%s: mtime %s, want the source date", h.Name, h.ModTime)
		}
	}
	if h := entries["usr/share/zoneinfo/PRC"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "Asia/Shanghai" {
		t.Errorf("zoneinfo/PRC = %+v, want a link to Asia/Shanghai", h)
	}
	if h := entries["usr/share/zoneinfo/localtime"]; h != nil {
		t.Errorf("zoneinfo/localtime links to the host's %s; it must be left out", h.Linkname)
	}
	if h := entries["home/nonroot/"]; h == nil || h.Uid != 65532 {
		t.Errorf("home/nonroot/ = %+v, want a directory owned by 65532", h)
	}
	if h := entries["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp/ = %+v, want mode 1777", h)
	}
}

func TestBaseRefusesMissingCARoots(t *testing.T) {
	src := testSources()
	src.CACerts = t.TempDir() + "/none.crt"
	if _, err := BaseIndex(src, testPlatforms); err == nil {
		t.Fatal("built a base without CA roots")
	}
}
