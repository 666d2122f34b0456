package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// subscribeTemplateJSON is one entry of MINIBACK_SUBSCRIBE_TEMPLATES.
type subscribeTemplateJSON struct {
	AppID      string `json:"appid"`
	Purpose    string `json:"purpose"`
	TemplateID string `json:"template_id"`
	Page       string `json:"page"`
	State      string `json:"state"`
	Lang       string `json:"lang"`
	// Fields maps each key of the template to a task value (title,
	// notes, due_at, created_at) or "=literal text".
	Fields map[string]string `json:"fields"`
}

// maxSubscribeTemplates bounds the entries of MINIBACK_SUBSCRIBE_TEMPLATES.
const maxSubscribeTemplates = 100

// SubscribeTemplates parses MINIBACK_SUBSCRIBE_TEMPLATES. Each template is
// valid (domain.SubscribeTemplate.Validate), and an app has each template
// id and each purpose once. Empty gives none.
func (c Config) SubscribeTemplates() ([]domain.SubscribeTemplate, error) {
	if strings.TrimSpace(c.SubscribeTemplatesJSON) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(c.SubscribeTemplatesJSON)))
	dec.DisallowUnknownFields()
	var in []subscribeTemplateJSON
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf(`must be a JSON array of {"appid","purpose","template_id","page","state","lang","fields"}: %w`, err)
	}
	if dec.More() {
		return nil, errors.New("must be one JSON array")
	}
	if len(in) > maxSubscribeTemplates {
		return nil, fmt.Errorf("at most %d templates, not %d", maxSubscribeTemplates, len(in))
	}
	out := make([]domain.SubscribeTemplate, 0, len(in))
	ids, purposes := map[[2]string]bool{}, map[[2]string]bool{}
	for i, e := range in {
		t := domain.SubscribeTemplate{AppID: e.AppID, Purpose: e.Purpose, ID: e.TemplateID, Page: e.Page, State: e.State, Lang: e.Lang}
		for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
			t.Fields = append(t.Fields, domain.TemplateField{Key: k, Source: e.Fields[k]})
		}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if ids[[2]string{t.AppID, t.ID}] {
			return nil, fmt.Errorf("entry %d: template %s of %s is listed twice", i+1, t.ID, t.AppID)
		}
		if purposes[[2]string{t.AppID, t.Purpose}] {
			return nil, fmt.Errorf("entry %d: %s has two templates for %s", i+1, t.AppID, t.Purpose)
		}
		ids[[2]string{t.AppID, t.ID}], purposes[[2]string{t.AppID, t.Purpose}] = true, true
		out = append(out, t)
	}
	return out, nil
}

// validateSubscribeTemplates checks MINIBACK_SUBSCRIBE_TEMPLATES: it
// parses, and names only configured apps.
func (c Config) validateSubscribeTemplates() []error {
	ts, err := c.SubscribeTemplates()
	if err != nil {
		return []error{fmt.Errorf("MINIBACK_SUBSCRIBE_TEMPLATES: %w", err)}
	}
	var errs []error
	apps, err := c.Apps()
	if err != nil {
		return nil // reported with MINIBACK_WECHAT_APPS
	}
	for _, t := range ts {
		_, ok := apps[domain.AppID(t.AppID)]
		if len(apps) == 0 && c.UseSimulator() {
			ok = t.AppID == wechatsim.DefaultAppID
		}
		if !ok {
			errs = append(errs, fmt.Errorf("MINIBACK_SUBSCRIBE_TEMPLATES: appid %s is not served (MINIBACK_WECHAT_APPS)", t.AppID))
		}
	}
	return errs
}

// simulatorReminderTemplate is the reminder template the run command
// configures for the simulator's app when MINIBACK_SUBSCRIBE_TEMPLATES is
// empty; the simulator knows it (wechatsim.DefaultReminderTemplateID).
func simulatorReminderTemplate() domain.SubscribeTemplate {
	return domain.SubscribeTemplate{
		AppID: wechatsim.DefaultAppID, Purpose: domain.SubscribePurposeReminder, ID: wechatsim.DefaultReminderTemplateID,
		Page: wechatsim.DefaultReminderPage, State: "developer", Lang: "zh_CN",
		Fields: []domain.TemplateField{
			{Key: "thing1", Source: domain.SubscribeSourceTitle},
			{Key: "time2", Source: domain.SubscribeSourceDueAt},
			{Key: "thing3", Source: domain.SubscribeSourceNotes},
		},
	}
}

// subscribeTemplates returns the configured templates, or, with the
// simulator and none configured, its reminder template.
func (m *Main) subscribeTemplates() []domain.SubscribeTemplate {
	ts, _ := m.Config.SubscribeTemplates() // validated by LoadConfig
	if len(ts) == 0 && m.sim != nil {
		t := simulatorReminderTemplate()
		m.Logger.Warn("embedded default: subscribe-message reminder template of the simulator's app",
			"appid", t.AppID, "template_id", t.ID, "replace_with", "MINIBACK_SUBSCRIBE_TEMPLATES")
		return []domain.SubscribeTemplate{t}
	}
	for _, t := range ts {
		m.Logger.Info("subscribe messages: template", "appid", t.AppID, "purpose", t.Purpose, "template_id", t.ID)
	}
	return ts
}
