// Package metricstest scrapes a /metrics handler the way Prometheus does
// (an HTTP GET, the text exposition format) and answers questions about
// what it exposed, for tests.
package metricstest

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is one scrape: the exposition's text and its parsed families.
type Scrape struct {
	Text     string
	Families map[string]*dto.MetricFamily
}

// ScrapeHandler GETs /metrics from h and parses the answer.
func ScrapeHandler(t testing.TB, h http.Handler) *Scrape {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d\n%s", rec.Code, rec.Body)
	}
	return parse(t, rec.Body.Bytes())
}

// ScrapeURL GETs url (a listener's /metrics) and parses the answer.
func ScrapeURL(t testing.TB, url string) *Scrape {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d\n%s", url, res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET %s: Content-Type %q, want the text format", url, ct)
	}
	return parse(t, body)
}

func parse(t testing.TB, body []byte) *Scrape {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse the exposition: %v\n%s", err, body)
	}
	return &Scrape{Text: string(body), Families: fams}
}

// Names lists the exposed families, sorted.
func (s *Scrape) Names() []string { return slices.Sorted(maps.Keys(s.Families)) }

// Has reports whether family name has a series.
func (s *Scrape) Has(name string) bool {
	f, ok := s.Families[name]
	return ok && len(f.Metric) > 0
}

// Value is the value of family name's series whose labels include
// labels (name, value pairs), summed over every series that matches: the
// counter's or gauge's value, a histogram's count. Absent, it is 0.
func (s *Scrape) Value(name string, labels ...string) float64 {
	f := s.Families[name]
	if f == nil {
		return 0
	}
	var sum float64
	for _, m := range f.Metric {
		if !matches(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

// LabelValues lists the values label takes in family name, sorted.
func (s *Scrape) LabelValues(name, label string) []string {
	seen := map[string]bool{}
	if f := s.Families[name]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == label {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func matches(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
