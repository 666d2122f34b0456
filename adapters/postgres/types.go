package postgres

import (
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// RegisterTypes teaches a connection's type map the Go types the stores
// bind and scan, so that pgx handles them without its generic fallbacks:
//
//   - google/uuid's UUID and NullUUID (sqlc's mapping of uuid) implement
//     only database/sql's interfaces, so pgx encodes each parameter by
//     trying its own plans first (allocating an error on the way), then
//     Value's 36-character string, parsed back; and it scans each column
//     by formatting the 16 bytes as text for Scan to parse again. Here
//     they are copied as the 16 bytes they are.
//   - pgx plans each column's scan anew for every query, and a
//     timestamptz into a time.Time or pgtype.Timestamptz, or a text[]
//     into a []string (the tasks' tags) allocates its plan each time.
//     Here the plans, which hold no per-row state, are made once per
//     connection.
//
// Values read and written are the same as without it (TestRegisterTypes…
// compare the two), only cheaper. OpenWith calls it for every connection;
// a pool given to FromPool works without it, and gets it by calling it
// from its AfterConnect.
func RegisterTypes(m *pgtype.Map) {
	if t, ok := m.TypeForOID(pgtype.UUIDOID); ok {
		u := &pgtype.Type{Name: t.Name, OID: t.OID, Codec: uuidCodec{t.Codec}}
		m.RegisterType(u)
		// The array type names its element type: keep []uuid.UUID and
		// the like on the same codec.
		if a, ok := m.TypeForOID(pgtype.UUIDArrayOID); ok {
			m.RegisterType(&pgtype.Type{Name: a.Name, OID: a.OID, Codec: &pgtype.ArrayCodec{ElementType: u}})
		}
	}
	planOnce(m, pgtype.TimestamptzOID, new(time.Time), new(pgtype.Timestamptz))
	planOnce(m, pgtype.TextArrayOID, new([]string))
}

// uuidCodec is pgx's uuid codec that also encodes and scans uuid.UUID and
// uuid.NullUUID directly; any other value goes to the codec it wraps.
type uuidCodec struct{ pgtype.Codec }

func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	switch value.(type) {
	case uuid.UUID:
		if format == pgtype.BinaryFormatCode {
			return encodeUUIDBinary{}
		}
		return encodeUUIDText{}
	case uuid.NullUUID:
		if format == pgtype.BinaryFormatCode {
			return encodeNullUUIDBinary{}
		}
		return encodeNullUUIDText{}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	switch target.(type) {
	case *uuid.UUID:
		if format == pgtype.BinaryFormatCode {
			return scanUUIDBinary{}
		}
		return scanUUIDText{}
	case *uuid.NullUUID:
		if format == pgtype.BinaryFormatCode {
			return scanNullUUIDBinary{}
		}
		return scanNullUUIDText{}
	}
	return c.Codec.PlanScan(m, oid, format, target)
}

type encodeUUIDBinary struct{}

func (encodeUUIDBinary) Encode(value any, buf []byte) ([]byte, error) {
	u := value.(uuid.UUID)
	return append(buf, u[:]...), nil
}

type encodeUUIDText struct{}

func (encodeUUIDText) Encode(value any, buf []byte) ([]byte, error) {
	return append(buf, value.(uuid.UUID).String()...), nil
}

// encodeNullUUIDBinary and encodeNullUUIDText send an invalid NullUUID as
// NULL, as its Value does.
type encodeNullUUIDBinary struct{}

func (encodeNullUUIDBinary) Encode(value any, buf []byte) ([]byte, error) {
	n := value.(uuid.NullUUID)
	if !n.Valid {
		return nil, nil
	}
	return append(buf, n.UUID[:]...), nil
}

type encodeNullUUIDText struct{}

func (encodeNullUUIDText) Encode(value any, buf []byte) ([]byte, error) {
	n := value.(uuid.NullUUID)
	if !n.Valid {
		return nil, nil
	}
	return append(buf, n.UUID.String()...), nil
}

// scanUUIDBinary and scanUUIDText leave the target alone on NULL, as
// uuid.UUID's Scan does.
type (
	scanUUIDBinary struct{}
	scanUUIDText   struct{}
)

func (scanUUIDBinary) Scan(src []byte, dst any) error {
	return scanUUID(pgtype.BinaryFormatCode, src, dst.(*uuid.UUID))
}

func (scanUUIDText) Scan(src []byte, dst any) error {
	return scanUUID(pgtype.TextFormatCode, src, dst.(*uuid.UUID))
}

func scanUUID(format int16, src []byte, dst *uuid.UUID) error {
	if src == nil {
		return nil
	}
	u, err := decodeUUID(format, src)
	if err != nil {
		return err
	}
	*dst = u
	return nil
}

// scanNullUUIDBinary and scanNullUUIDText make NULL the invalid NullUUID,
// as its Scan does.
type (
	scanNullUUIDBinary struct{}
	scanNullUUIDText   struct{}
)

func (scanNullUUIDBinary) Scan(src []byte, dst any) error {
	return scanNullUUID(pgtype.BinaryFormatCode, src, dst.(*uuid.NullUUID))
}

func (scanNullUUIDText) Scan(src []byte, dst any) error {
	return scanNullUUID(pgtype.TextFormatCode, src, dst.(*uuid.NullUUID))
}

func scanNullUUID(format int16, src []byte, dst *uuid.NullUUID) error {
	if src == nil {
		*dst = uuid.NullUUID{}
		return nil
	}
	u, err := decodeUUID(format, src)
	if err != nil {
		dst.Valid = false
		return err
	}
	*dst = uuid.NullUUID{UUID: u, Valid: true}
	return nil
}

func decodeUUID(format int16, src []byte) (uuid.UUID, error) {
	if format == pgtype.BinaryFormatCode {
		if len(src) != 16 {
			return uuid.UUID{}, fmt.Errorf("invalid length for UUID: %d", len(src))
		}
		return uuid.UUID(src), nil
	}
	u, err := uuid.ParseBytes(src)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("scan uuid: %w", err)
	}
	return u, nil
}

// planOnce registers for the type oid a codec that answers the binary scan
// plans of targets' types with plans made now, by the codec registered so
// far (pgx's own), instead of anew for every query.
func planOnce(m *pgtype.Map, oid uint32, targets ...any) {
	t, ok := m.TypeForOID(oid)
	if !ok {
		return
	}
	c := plannedCodec{Codec: t.Codec, binary: make(map[reflect.Type]pgtype.ScanPlan, len(targets))}
	for _, target := range targets {
		c.binary[reflect.TypeOf(target)] = m.PlanScan(oid, pgtype.BinaryFormatCode, target)
	}
	m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: c})
}

// plannedCodec is a codec whose binary scan plans for some target types
// are made once. pgx's plans for them hold no per-row or per-query state.
type plannedCodec struct {
	pgtype.Codec
	binary map[reflect.Type]pgtype.ScanPlan
}

func (c plannedCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if format == pgtype.BinaryFormatCode {
		if plan, ok := c.binary[reflect.TypeOf(target)]; ok {
			return plan
		}
	}
	return c.Codec.PlanScan(m, oid, format, target)
}
