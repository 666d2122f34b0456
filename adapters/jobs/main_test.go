package jobs_test

import (
	"testing"

	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
