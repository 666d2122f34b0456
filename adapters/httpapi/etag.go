package httpapi

import (
	"strconv"
	"strings"

	"github.com/miniback/miniback/domain"
)

// A task's entity tag is its version: "v<version>", strong.

// etag is the ETag header value of a task at version v.
func etag(version int) string { return `"v` + strconv.Itoa(version) + `"` }

// entityTags splits an If-Match or If-None-Match value (RFC 9110 §13.1):
// "*", or a list of entity tags, each optionally weak. The validator has
// checked the syntax against the spec's pattern.
type entityTags struct {
	any  bool
	tags []entityTag
}

type entityTag struct {
	weak   bool
	opaque string // between the quotes
}

func parseEntityTags(header string) entityTags {
	header = strings.TrimSpace(header)
	if header == "*" {
		return entityTags{any: true}
	}
	var out entityTags
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		weak := strings.HasPrefix(part, "W/")
		part = strings.TrimPrefix(part, "W/")
		if len(part) >= 2 && part[0] == '"' && part[len(part)-1] == '"' {
			out.tags = append(out.tags, entityTag{weak: weak, opaque: part[1 : len(part)-1]})
		}
	}
	return out
}

// version reads the version of a task's tag, or false for a tag that
// cannot be one of ours.
func (t entityTag) version() (int, bool) {
	digits, ok := strings.CutPrefix(t.opaque, "v")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 9 {
		return 0, false
	}
	v, err := strconv.Atoi(digits)
	return v, err == nil
}

// versionMatch turns If-Match into the domain's precondition, nil when the
// header is absent. If-Match compares strongly: a weak tag matches
// nothing, and so does a tag that is not ours.
func versionMatch(header *string) *domain.VersionMatch {
	if header == nil {
		return nil
	}
	tags := parseEntityTags(*header)
	m := &domain.VersionMatch{Any: tags.any, Versions: []int{}}
	for _, t := range tags.tags {
		if v, ok := t.version(); ok && !t.weak {
			m.Versions = append(m.Versions, v)
		}
	}
	return m
}

// noneMatch reports whether If-None-Match holds the task's tag, comparing
// weakly (RFC 9110 §13.1.2), or is "*".
func noneMatch(header *string, version int) bool {
	if header == nil {
		return false
	}
	tags := parseEntityTags(*header)
	if tags.any {
		return true
	}
	for _, t := range tags.tags {
		if v, ok := t.version(); ok && v == version {
			return true
		}
	}
	return false
}
