package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// localRegistry is an in-memory OCI registry on the loopback interface:
// ko pulls its base image only from a registry (or a Docker engine, which
// there is none of), and there is no network to reach a public one.
type localRegistry struct {
	srv  *http.Server
	addr string
	done chan error
}

func startRegistry() (*localRegistry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("local registry: %w", err)
	}
	r := &localRegistry{
		srv:  &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { r.done <- r.srv.Serve(ln) }()
	return r, nil
}

// push stores the index under repo and returns its reference by digest, the
// form ko records as the image's base. A loopback registry is spoken to
// over plain HTTP (go-containerregistry's rule for 127.0.0.1).
func (r *localRegistry) push(ctx context.Context, repo string, idx v1.ImageIndex) (string, error) {
	tag, err := name.NewTag(r.addr + "/" + repo + ":build")
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(tag, idx, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("push the base to the local registry: %w", err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return tag.Context().Digest(d.String()).String(), nil
}

func (r *localRegistry) close() error {
	err := r.srv.Close()
	if serveErr := <-r.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
