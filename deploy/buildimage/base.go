package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user: not root, with the uid distroless and Chainguard images
// use, so a PodSecurity "restricted" policy and runAsNonRoot accept it.
const (
	nonrootUID  = 65532
	nonrootHome = "/home/nonroot"
)

// BaseSources are the host files the base image is made of. There is no
// registry to pull a base from here, so the base is built from Debian's
// ca-certificates and tzdata packages.
type BaseSources struct {
	CACerts  string // PEM bundle, e.g. /etc/ssl/certs/ca-certificates.crt
	ZoneInfo string // the tz database, e.g. /usr/share/zoneinfo
	// Created stamps the files and the config, so the same sources make
	// the same digest (SOURCE_DATE_EPOCH).
	Created time.Time
}

// DefaultBaseSources are Debian's paths.
func DefaultBaseSources() BaseSources {
	return BaseSources{CACerts: "/etc/ssl/certs/ca-certificates.crt", ZoneInfo: "/usr/share/zoneinfo"}
}

// baseLayer is the whole base filesystem in one layer: users, CA roots, the
// tz database, /tmp and the user's home. No shell, no package manager, no
// C library: miniback is a static Go binary.
func baseLayer(src BaseSources) (v1.Layer, error) {
	var buf bytes.Buffer
	w := layerWriter{tw: tar.NewWriter(&buf), mtime: src.Created}
	w.dir("etc", 0o755, 0)
	w.file("etc/passwd", 0o644, "root:x:0:0:root:/root:/sbin/nologin\n"+
		fmt.Sprintf("nonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", nonrootUID, nonrootUID, nonrootHome))
	w.file("etc/group", 0o644, fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonrootUID))
	// Go's resolver reads it to decide whether /etc/hosts comes first.
	w.file("etc/nsswitch.conf", 0o644, "hosts: files dns\n")
	w.dir("etc/ssl", 0o755, 0)
	w.dir("etc/ssl/certs", 0o755, 0)
	certs, err := os.ReadFile(src.CACerts)
	if err != nil {
		return nil, fmt.Errorf("CA roots (apt-get install ca-certificates): %w", err)
	}
	if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA roots: %s holds no PEM certificate", src.CACerts)
	}
	w.file("etc/ssl/certs/ca-certificates.crt", 0o644, string(certs))
	w.dir("usr", 0o755, 0)
	w.dir("usr/share", 0o755, 0)
	if err := w.tree(src.ZoneInfo, "usr/share/zoneinfo"); err != nil {
		return nil, fmt.Errorf("tz database (apt-get install tzdata): %w", err)
	}
	// The mount point of the pod's emptyDir; sticky and world-writable
	// like any /tmp when the root filesystem is writable.
	w.dir("tmp", 0o1777, 0)
	w.dir("home", 0o755, 0)
	w.dir(strings.TrimPrefix(nonrootHome, "/"), 0o755, nonrootUID)
	if err := w.close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// BaseIndex is the base image for each platform: the same layer (it holds
// no binary) under a config naming the platform, the user, PATH and the
// working directory.
func BaseIndex(src BaseSources, platforms []v1.Platform) (v1.ImageIndex, error) {
	layer, err := baseLayer(src)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: src.Created}, CreatedBy: "miniback deploy/buildimage",
			Comment: "CA roots, tzdata, a non-root user",
		}})
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		cf.Created = v1.Time{Time: src.Created}
		// Numeric, so the kubelet can check runAsNonRoot without an
		// /etc/passwd lookup.
		cf.Config.User = fmt.Sprintf("%d:%d", nonrootUID, nonrootUID)
		cf.Config.WorkingDir = nonrootHome
		cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
		cf.Config.Labels = map[string]string{"org.opencontainers.image.description": "miniback base: CA roots, tzdata, non-root user 65532"}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return nil, err
		}
		p := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, nil
}

// layerWriter writes tar entries owned by root (or the given uid) with one
// fixed modification time, remembering the first error.
type layerWriter struct {
	tw    *tar.Writer
	mtime time.Time
	err   error
}

func (w *layerWriter) write(h *tar.Header, body string) {
	if w.err != nil {
		return
	}
	h.ModTime, h.Format = w.mtime, tar.FormatPAX
	h.Uname, h.Gname = "", ""
	if h.Typeflag == tar.TypeReg {
		h.Size = int64(len(body))
	}
	if w.err = w.tw.WriteHeader(h); w.err == nil && body != "" {
		_, w.err = io.WriteString(w.tw, body)
	}
}

func (w *layerWriter) dir(name string, mode int64, uid int) {
	w.write(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid}, "")
}

func (w *layerWriter) file(name string, mode int64, body string) {
	w.write(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, body)
}

// tree copies the host directory src to dst. Relative symbolic links that
// stay inside the tree are kept (the tz database aliases zones that way);
// absolute ones (zoneinfo/localtime → /etc/localtime) point at the host
// and are left out.
func (w *layerWriter) tree(src, dst string) error {
	if _, err := os.Stat(filepath.Join(src, "UTC")); err != nil {
		return err
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := path.Join(dst, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			w.dir(name, 0o755, 0)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			resolved := path.Join(path.Dir(name), target)
			if path.IsAbs(target) || !strings.HasPrefix(resolved, dst+"/") {
				return nil
			}
			w.write(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, "")
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			w.file(name, 0o644, string(b))
		}
		return w.err
	})
	if err != nil {
		return err
	}
	return w.err
}

func (w *layerWriter) close() error {
	if w.err != nil {
		return w.err
	}
	return w.tw.Close()
}
