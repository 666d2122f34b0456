package main

import (
	"maps"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	specsv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// renameBase rewrites the layout at dir so the base-image annotation
// (org.opencontainers.image.base.name) names the base without the local
// registry's address: ko records the reference it pulled, and the
// registry's port changes with every build, which would change the image's
// digest for nothing. It also names the image ref (miniback:v1.2.3) in the
// layout's index, the name podman load, docker load and containerd import
// give it.
func renameBase(dir, from, to, ref string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		return err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return err
	}
	renamed, err := renameIndex(idx, from, to, map[string]string{
		specsv1.AnnotationRefName:  ref[strings.LastIndex(ref, ":")+1:],
		"io.containerd.image.name": ref,
	})
	if err != nil {
		return err
	}
	tmp := dir + ".renamed"
	if _, err := layout.Write(tmp, renamed); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// renameIndex rebuilds idx with the base renamed; refNames, when given,
// annotate its manifests' descriptors.
func renameIndex(idx v1.ImageIndex, from, to string, refNames map[string]string) (v1.ImageIndex, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	out := mutate.IndexMediaType(empty.Index, m.MediaType)
	for _, d := range m.Manifests {
		var add mutate.Appendable
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			if add, err = renameIndex(child, from, to, nil); err != nil {
				return nil, err
			}
		} else {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, err
			}
			mf, err := img.Manifest()
			if err != nil {
				return nil, err
			}
			if a, ok := renamed(mf.Annotations, from, to); ok {
				img = mutate.Annotations(img, a).(v1.Image)
			}
			add = img
		}
		a, _ := renamed(d.Annotations, from, to)
		if refNames != nil {
			a = maps.Clone(a)
			if a == nil {
				a = map[string]string{}
			}
			maps.Copy(a, refNames)
		}
		out = mutate.AppendManifests(out, mutate.IndexAddendum{Add: add, Descriptor: v1.Descriptor{Platform: d.Platform, Annotations: a}})
	}
	if a, ok := renamed(m.Annotations, from, to); ok {
		out = mutate.Annotations(out, a).(v1.ImageIndex)
	}
	return out, nil
}

// renamed returns a copy of annotations with the base name replaced, and
// whether there was one to replace.
func renamed(annotations map[string]string, from, to string) (map[string]string, bool) {
	if annotations[specsv1.AnnotationBaseImageName] != from {
		return annotations, false
	}
	a := maps.Clone(annotations)
	a[specsv1.AnnotationBaseImageName] = to
	return a, true
}
