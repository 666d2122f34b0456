package postgres

import (
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.DatabaseStatus = (*DB)(nil)

// PoolStats reports the connection pool, for the health page. It reads
// counters only: no connection is acquired.
func (db *DB) PoolStats() domain.PoolStats {
	s := db.pool.Stat()
	return domain.PoolStats{
		Max: int(s.MaxConns()), Total: int(s.TotalConns()), Idle: int(s.IdleConns()),
		Acquired: int(s.AcquiredConns()), Waited: s.EmptyAcquireCount(),
	}
}
