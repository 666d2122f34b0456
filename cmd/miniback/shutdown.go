package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miniback/miniback/adapters/httpapi"
)

// How a serving miniback stops (SIGTERM, SIGINT):
//
//  1. Drain: /readyz answers 503 at once, each answer closes its
//     connection (Connection: close, so keep-alive clients and proxies
//     reconnect, through the load balancer, elsewhere), and the listener
//     stays open for
//     MINIBACK_SHUTDOWN_DRAIN: the load balancer keeps sending requests
//     until its health checks see the 503, and each is served.
//  2. Shutdown: the listener closes; the requests in flight get
//     MINIBACK_SHUTDOWN_TIMEOUT to finish.
//  3. Cut, if they do not: every request's context is cancelled and every
//     connection closed; the log says how many requests on which routes
//     and how many connections were cut. The handlers then return (their
//     clean-up runs: a partial upload's temporary file is removed) before
//     the database closes. A cut is the timeout doing its job: the process
//     still exits 0.
//  4. Close the rest: background work, storage, database.

// errDraining is the readiness failure while the process stops.
var errDraining = errors.New("shutting down: not taking new requests")

// cutGrace bounds how long a cut waits for the cut handlers to return.
const cutGrace = 2 * time.Second

// stopping is what Main keeps to stop serving well.
type stopping struct {
	// draining makes /readyz answer 503 from the start of a shutdown.
	draining atomic.Bool
	// inFlight counts the requests being served, by route.
	inFlight *httpapi.InFlight
	// conns tracks the server's connections.
	conns connStates
	// cut cancels the base context of every request; nil before serving.
	cut context.CancelFunc
}

// ready is the readiness check: not ready while draining, else the
// database answering.
func (m *Main) ready(ctx context.Context) error {
	if m.stop.draining.Load() {
		return errDraining
	}
	return m.db.Ping(ctx)
}

// Drain starts a shutdown: /readyz answers 503 from now on, each answer
// closes its connection, and Drain returns after MINIBACK_SHUTDOWN_DRAIN,
// the listener still open meanwhile. Close then stops serving.
func (m *Main) Drain() {
	m.stop.draining.Store(true)
	if m.server == nil {
		return
	}
	drain := m.Config.Drain()
	m.Logger.Info("shutdown: draining; /readyz answers 503 while requests are still served",
		"drain", drain.String(), "in_flight", m.stop.inFlight.Count())
	time.Sleep(drain) // serving goes on meanwhile
}

// closeWhenDraining asks each client, once the shutdown has begun, to
// close its connection after the answer. Idle connections are left open:
// closing one that a load balancer is reusing at that moment would fail
// its request (which http.Server.SetKeepAlivesEnabled(false) risks);
// Shutdown closes them after the drain, when no balancer sends here any
// more.
func (s *stopping) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// stopServing closes the listener and waits up to
// MINIBACK_SHUTDOWN_TIMEOUT for the requests in flight, then cuts those
// still running. A cut is logged, and is no error.
func (m *Main) stopServing() error {
	m.stop.draining.Store(true)
	timeout := m.Config.ShutdownTimeout
	m.Logger.Info("shutdown: listener closed; waiting for the requests in flight",
		"in_flight", m.stop.inFlight.Count(), "timeout", timeout.String())
	defer m.stop.cut() // the requests' base context, once none is left
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := m.server.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}

	requests, routes, conns := m.stop.inFlight.Count(), m.stop.inFlight.Routes(), m.stop.conns.open()
	m.stop.cut()
	closeErr := m.server.Close()
	m.Logger.Warn("shutdown: timeout passed; cut the requests still in flight",
		"timeout", timeout.String(), "requests", requests, "routes", routes, "connections", conns)
	waitCtx, cancelWait := context.WithTimeout(context.Background(), cutGrace)
	defer cancelWait()
	if m.stop.inFlight.Wait(waitCtx) != nil {
		m.Logger.Warn("shutdown: cut requests still running; closing anyway",
			"requests", m.stop.inFlight.Count(), "routes", m.stop.inFlight.Routes(), "waited", cutGrace.String())
	}
	return closeErr
}

// connStates tracks the state of each connection of the server, from its
// ConnState hook, to say how many a cut closed.
type connStates struct {
	mu     sync.Mutex
	states map[net.Conn]http.ConnState
}

func (c *connStates) track(conn net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.states == nil {
		c.states = map[net.Conn]http.ConnState{}
	}
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(c.states, conn)
	default:
		c.states[conn] = s
	}
}

// open is the number of connections not yet closed.
func (c *connStates) open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.states)
}
