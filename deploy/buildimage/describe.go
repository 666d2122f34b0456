package main

import (
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Sizes describes one platform's image in a layout.
type Sizes struct {
	Platform         string
	Digest           string
	Layers           int
	Compressed       int64 // the layers as stored and pulled
	Uncompressed     int64 // the layers unpacked: the filesystem's tar size
	BaseUncompressed int64 // the first layer, the base's
}

// Describe measures every image in the OCI layout at dir, following nested
// indexes.
func Describe(dir string) ([]Sizes, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	var out []Sizes
	err = WalkImages(idx, func(plat string, img v1.Image) error {
		s := Sizes{Platform: plat}
		d, err := img.Digest()
		if err != nil {
			return err
		}
		s.Digest = d.String()
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		s.Layers = len(layers)
		for i, l := range layers {
			n, err := l.Size()
			if err != nil {
				return err
			}
			s.Compressed += n
			rc, err := l.Uncompressed()
			if err != nil {
				return err
			}
			u, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				return err
			}
			s.Uncompressed += u
			if i == 0 {
				s.BaseUncompressed = u
			}
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// WalkImages calls fn for every image under idx, with its platform
// ("linux/amd64") from the index descriptor or the image's config.
func WalkImages(idx v1.ImageIndex, fn func(platform string, img v1.Image) error) error {
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range m.Manifests {
		switch {
		case desc.MediaType.IsIndex():
			child, err := idx.ImageIndex(desc.Digest)
			if err != nil {
				return err
			}
			if err := WalkImages(child, fn); err != nil {
				return err
			}
		case desc.MediaType.IsImage():
			img, err := idx.Image(desc.Digest)
			if err != nil {
				return err
			}
			plat := ""
			if desc.Platform != nil {
				plat = desc.Platform.String()
			} else if cf, err := img.ConfigFile(); err == nil {
				plat = cf.Platform().String()
			}
			if err := fn(plat, img); err != nil {
				return fmt.Errorf("%s: %w", desc.Digest, err)
			}
		}
	}
	return nil
}
