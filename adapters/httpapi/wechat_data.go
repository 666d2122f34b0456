package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// WeChat open data (POST /v1/me/wechat-data): decrypted with the session
// key of the caller's latest WeChat login, which stays on the server.

// DecryptWeChatData checks and decrypts the caller's WeChat open data. The
// user and the mini-program come from the token.
func (s *Server) DecryptWeChatData(ctx context.Context, req api.DecryptWeChatDataRequestObject) (api.DecryptWeChatDataResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.decryptWeChatDataFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.decryptWeChatDataFailure(ctx, errNoBody)
	}
	in := domain.OpenDataRequest{EncryptedData: req.Body.EncryptedData, IV: req.Body.Iv}
	if req.Body.RawData != nil {
		in.RawData = *req.Body.RawData
	}
	if req.Body.Signature != nil {
		in.Signature = *req.Body.Signature
	}
	d, err := s.app.WeChatData.Open(ctx, claims.UserID, claims.AppID, in)
	if err != nil {
		return s.decryptWeChatDataFailure(ctx, err)
	}
	return (*openDataResponse)(&d), nil
}

// openDataResponse is a 200 with the decrypted object as WeChat wrote it
// (api.WeChatData's data, an open object) and the checked watermark. The
// object goes out as its bytes: decoding it into a map and encoding it
// again would reorder its members and round its numbers.
type openDataResponse domain.OpenData

func (r *openDataResponse) VisitDecryptWeChatDataResponse(w http.ResponseWriter) error {
	return writeJSON(w, http.StatusOK, "", func(b []byte) ([]byte, error) {
		out, err := json.Marshal(struct {
			Data      json.RawMessage     `json:"data"`
			Watermark api.WeChatWatermark `json:"watermark"`
		}{
			Data:      r.JSON,
			Watermark: api.WeChatWatermark{Appid: string(r.Watermark.AppID), Timestamp: r.Watermark.Timestamp},
		})
		return append(b, out...), err
	})
}
