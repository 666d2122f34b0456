package wechatsim

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a Simulator on its own HTTP listener.
type Server struct {
	sim  *Simulator
	srv  *http.Server
	url  string
	done chan struct{} // closed when Serve returns

	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (such as "127.0.0.1:0") and serves a Simulator for
// cfg until Close.
func Start(addr string, cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wechatsim: listen on %s: %w", addr, err)
	}
	sim := New(cfg)
	s := &Server{
		sim:  sim,
		srv:  &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second},
		url:  "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		// Serve returns http.ErrServerClosed after Close; any other
		// error also ends the listener, and Close reports nothing new.
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL returns the base URL to give the WeChat client, e.g.
// "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// Simulator returns the served Simulator, for its call counts.
func (s *Server) Simulator() *Simulator { return s.sim }

// Close stops the listener and ends open requests (a waiting err-slow
// included), then waits for the server to stop. It may be called twice.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if err := s.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = fmt.Errorf("wechatsim: close: %w", err)
		}
		<-s.done
	})
	return s.closeErr
}
