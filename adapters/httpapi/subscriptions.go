package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// The caller's subscribe-message subscriptions (GET and POST
// /v1/me/subscriptions): the user and the mini-program come from the
// access token.

// ListMySubscriptions answers what the caller has left of each template.
func (s *Server) ListMySubscriptions(ctx context.Context, _ api.ListMySubscriptionsRequestObject) (api.ListMySubscriptionsResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.listMySubscriptionsFailure(ctx, errNoClaims)
	}
	subs, err := s.app.Subscriptions.List(ctx, claims.UserID, claims.AppID)
	if err != nil {
		return s.listMySubscriptionsFailure(ctx, err)
	}
	out := api.ListMySubscriptions200JSONResponse{Items: make([]api.Subscription, len(subs))}
	for i, sub := range subs {
		out.Items[i] = toAPISubscription(sub)
	}
	return out, nil
}

// RecordMySubscription records the caller's answer for one template.
func (s *Server) RecordMySubscription(ctx context.Context, req api.RecordMySubscriptionRequestObject) (api.RecordMySubscriptionResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.recordMySubscriptionFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.recordMySubscriptionFailure(ctx, errNoBody)
	}
	sub, err := s.app.Subscriptions.Record(ctx, claims.UserID, claims.AppID, req.Body.TemplateId, string(req.Body.Result))
	if err != nil {
		return s.recordMySubscriptionFailure(ctx, err)
	}
	return api.RecordMySubscription200JSONResponse(toAPISubscription(sub)), nil
}

// toAPISubscription maps a subscription to the wire type: no purpose for
// a template not configured, no status or time for one never answered.
func toAPISubscription(sub domain.Subscription) api.Subscription {
	out := api.Subscription{TemplateId: sub.TemplateID, Remaining: sub.Remaining}
	if sub.Purpose != "" {
		out.Purpose = &sub.Purpose
	}
	if sub.Status != "" {
		st := api.SubscriptionStatus(sub.Status)
		out.Status = &st
		at := sub.UpdatedAt.UTC()
		out.UpdatedAt = &at
	}
	return out
}
