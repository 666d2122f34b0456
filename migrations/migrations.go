// Package migrations embeds the SQL schema migrations. The same files are
// sqlc's schema, so the generated queries always match what is applied.
// Names are zero-padded so goose and sqlc sort them alike.
package migrations

import "embed"

// FS holds the *.sql migrations in goose format.
//
//go:embed *.sql
var FS embed.FS
