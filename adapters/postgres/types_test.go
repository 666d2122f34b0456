package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

// TestRegisterTypesReadsAndWritesWhatPgxDoes sends and reads the types
// RegisterTypes handles, in the binary (extended protocol) and text
// (simple protocol) formats, on a connection with it and one without, and
// expects the same values and the same errors.
func TestRegisterTypesReadsAndWritesWhatPgxDoes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	plain, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close(ctx) })
	tuned, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tuned.Close(ctx) })
	postgres.RegisterTypes(tuned.TypeMap())

	id := uuid.MustParse("0190f1a2-7b3c-7def-8123-456789abcdef")
	other := uuid.MustParse("ffffffff-0000-4000-8000-000000000001")
	at := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.FixedZone("", 8*3600))
	cases := []struct {
		name   string
		sql    string
		args   []any
		target func() any // a fresh, possibly non-zero, destination
	}{
		{"uuid", "SELECT $1::uuid", []any{id}, func() any { return new(uuid.UUID) }},
		{"uuid as NullUUID", "SELECT $1::uuid", []any{id}, func() any { return new(uuid.NullUUID) }},
		{"uuid as string", "SELECT $1::uuid", []any{id}, func() any { return new(string) }},
		{"uuid as pgtype.UUID", "SELECT $1::uuid", []any{id}, func() any { return new(pgtype.UUID) }},
		{"valid NullUUID", "SELECT $1::uuid", []any{uuid.NullUUID{UUID: id, Valid: true}}, func() any { return new(uuid.NullUUID) }},
		{"invalid NullUUID", "SELECT $1::uuid", []any{uuid.NullUUID{UUID: id}}, func() any { return &uuid.NullUUID{UUID: other, Valid: true} }},
		{"NULL into uuid", "SELECT NULL::uuid", nil, func() any { u := other; return &u }},
		{"uuid compared", "SELECT id FROM (VALUES ($1::uuid)) v(id) WHERE id = $2", []any{id, id}, func() any { return new(uuid.UUID) }},
		{"uuid array", "SELECT $1::uuid[]", []any{[]uuid.UUID{id, other}}, func() any { return new([]uuid.UUID) }},
		{"uuid array with NULL", "SELECT ARRAY[$1::uuid, NULL]", []any{id}, func() any { return new([]uuid.NullUUID) }},
		{"timestamptz", "SELECT $1::timestamptz", []any{at}, func() any { return new(time.Time) }},
		{"timestamptz as pgtype", "SELECT $1::timestamptz", []any{at}, func() any { return new(pgtype.Timestamptz) }},
		{"NULL into time.Time", "SELECT NULL::timestamptz", nil, func() any { return new(time.Time) }},
		{"NULL into pgtype.Timestamptz", "SELECT NULL::timestamptz", nil, func() any { return &pgtype.Timestamptz{Time: at, Valid: true} }},
		{"infinity into time.Time", "SELECT 'infinity'::timestamptz", nil, func() any { return new(time.Time) }},
		{"infinity into pgtype.Timestamptz", "SELECT '-infinity'::timestamptz", nil, func() any { return new(pgtype.Timestamptz) }},
		{"timestamptz array", "SELECT ARRAY[$1::timestamptz, $1]", []any{at}, func() any { return new([]time.Time) }},
		{"text array", "SELECT $1::text[]", []any{[]string{"home", "", "工作"}}, func() any { return new([]string) }},
		{"empty text array", "SELECT '{}'::text[]", nil, func() any { return &[]string{"x"} }},
		{"NULL text array", "SELECT NULL::text[]", nil, func() any { return &[]string{"x"} }},
		{"text array with NULL", "SELECT ARRAY['a', NULL]", nil, func() any { return new([]string) }},
		{"text array as pgtype", "SELECT ARRAY['a', NULL]", nil, func() any { return new([]pgtype.Text) }},
	}
	read := func(conn *pgx.Conn, mode pgx.QueryExecMode, sql string, args []any, dst any) (any, string) {
		err := conn.QueryRow(ctx, sql, append([]any{mode}, args...)...).Scan(dst)
		if err != nil {
			return nil, err.Error()
		}
		return reflect.ValueOf(dst).Elem().Interface(), ""
	}
	checked := 0
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%v/%s", mode, tc.name), func(t *testing.T) {
				want, wantErr := read(plain, mode, tc.sql, tc.args, tc.target())
				got, gotErr := read(tuned, mode, tc.sql, tc.args, tc.target())
				if gotErr != wantErr {
					t.Fatalf("error %q, pgx's own %q", gotErr, wantErr)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("read %#v, pgx's own %#v", got, want)
				}
				if wantErr == "" {
					checked++
				}
			})
		}
	}
	if checked < 2*len(cases)-8 {
		t.Fatalf("only %d reads succeeded: the cases test errors, not values", checked)
	}
}

// TestRegisterTypesEncodesAndScansWithoutAllocating is the point of
// RegisterTypes: a uuid parameter and the uuid, timestamptz and (empty)
// text[] columns of every query cost no allocation, where pgx's fallbacks
// and per-query plans cost several.
func TestRegisterTypesEncodesAndScansWithoutAllocating(t *testing.T) {
	id := uuid.New()
	src := id[:]
	ts := []byte{0, 2, 0x9b, 0x4e, 0x6a, 0x1d, 0x3c, 0x40} // some microseconds after 2000
	buf := make([]byte, 0, 64)
	// Boxed and allocated once: a query's arguments and destinations are
	// the caller's, not the type map's, allocations.
	arg, u, at, tstz, tags := any(id), new(uuid.UUID), new(time.Time), new(pgtype.Timestamptz), new([]string)
	noTags := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25} // '{}'::text[]: no dimensions, text elements
	ops := map[string]func(m *pgtype.Map) error{
		"encode uuid.UUID": func(m *pgtype.Map) error {
			_, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, arg, buf)
			return err
		},
		"scan uuid.UUID": func(m *pgtype.Map) error {
			return m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, src, u)
		},
		"scan time.Time": func(m *pgtype.Map) error {
			return m.Scan(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, ts, at)
		},
		"scan pgtype.Timestamptz": func(m *pgtype.Map) error {
			return m.Scan(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, ts, tstz)
		},
		"scan empty []string": func(m *pgtype.Map) error {
			return m.Scan(pgtype.TextArrayOID, pgtype.BinaryFormatCode, noTags, tags)
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			plain, tuned := pgtype.NewMap(), pgtype.NewMap()
			postgres.RegisterTypes(tuned)
			for _, m := range []*pgtype.Map{plain, tuned} {
				if err := op(m); err != nil {
					t.Fatal(err)
				}
			}
			if n := testing.AllocsPerRun(100, func() { _ = op(plain) }); n == 0 {
				t.Fatalf("pgx's own map allocates nothing: the test proves nothing")
			}
			if n := testing.AllocsPerRun(100, func() { _ = op(tuned) }); n != 0 {
				t.Fatalf("%v allocations per run, want 0", n)
			}
		})
	}
}
