package wechat

import (
	"context"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Subscribe messages: POST /cgi-bin/message/subscribe/send. Each send
// spends one of the user's one-time grants on WeChat's side, so a send is
// never repeated once it may have reached WeChat (retry.go: replaySafe,
// onlyUnsent): the caller (the reminder queue) decides, from
// domain.IsPermanentSendFailure, whether to try again later.

const (
	apiSubscribeSend  = "subscribe_send"
	subscribeSendPath = "/cgi-bin/message/subscribe/send"
)

var _ ports.SubscribeSender = (*API)(nil)

// subscribeSendRequest is WeChat's body.
type subscribeSendRequest struct {
	ToUser           string                    `json:"touser"`
	TemplateID       string                    `json:"template_id"`
	Page             string                    `json:"page,omitempty"`
	Data             map[string]subscribeValue `json:"data"`
	MiniprogramState string                    `json:"miniprogram_state,omitempty"`
	Lang             string                    `json:"lang,omitempty"`
}

type subscribeValue struct {
	Value string `json:"value"`
}

// subscribeSendReply is the success: msgid is a 64-bit number (read as
// text, so that no precision is lost; a string is taken too).
type subscribeSendReply struct {
	MsgID flexString `json:"msgid"`
}

// SendSubscribe sends m with its app's access token and returns WeChat's
// msgid. Failures are *domain.Error: the final ones (43101, 47003, 40003,
// 40037, 41030 and the other errcodes that say the request is wrong) with
// the codes domain.IsPermanentSendFailure knows, the rest (busy, quota,
// transport, timeout, an open breaker, an unexpected reply) as every
// token-bearing API's. A success without a msgid is still a success: the
// message went.
func (a *API) SendSubscribe(ctx context.Context, m domain.SubscribeMessage) (string, error) {
	req := subscribeSendRequest{ToUser: m.OpenID, TemplateID: m.TemplateID, Page: m.Page,
		MiniprogramState: m.MiniprogramState, Lang: m.Lang, Data: make(map[string]subscribeValue, len(m.Data))}
	for k, v := range m.Data {
		req.Data[k] = subscribeValue{Value: v}
	}
	var r subscribeSendReply
	if err := a.PostJSON(ctx, domain.AppID(m.AppID), apiSubscribeSend, subscribeSendPath, req, &r); err != nil {
		return "", subscribeError(err)
	}
	return string(r.MsgID), nil
}

// subscribeError maps subscribe send's own errcodes; the others keep the
// shared mapping. WeChat's errmsg (it names the bad key for 47003) stays
// in the cause, for the log.
func subscribeError(err error) error {
	ee, ok := apiErrcode(err)
	if !ok {
		return err
	}
	d := &domain.Error{Err: ee}
	switch ee.Code {
	case 43101:
		d.Code, d.Message = domain.CodeSubscribeRefused, "The user has not accepted this subscribe message, or has no send left (errcode 43101)."
	case 47003:
		d.Code, d.Message = domain.CodeSubscribeDataInvalid, fmt.Sprintf("WeChat refused the message's data (errcode 47003: %s).", ee.Msg)
	case 40003, 43104:
		d.Code, d.Message = domain.CodeSubscribeOpenIDInvalid, fmt.Sprintf("WeChat does not know this user in this mini-program (errcode %d).", ee.Code)
	case 40037:
		d.Code, d.Message = domain.CodeSubscribeTemplateInvalid, "WeChat does not know this template id for this mini-program (errcode 40037)."
	case 41030:
		d.Code, d.Message = domain.CodeSubscribePageInvalid, "WeChat does not know the message's page (errcode 41030)."
	case 40036, 40097, 47001, 43107, 43108:
		// template id size, invalid args, data format, and the sends
		// WeChat does not allow this app or user.
		d.Code, d.Message = domain.CodeSubscribeRejectedByWeChat, fmt.Sprintf("WeChat refused the message (errcode %d).", ee.Code)
	default:
		return ee.DomainError()
	}
	return d
}
