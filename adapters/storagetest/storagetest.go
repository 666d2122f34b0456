// Package storagetest builds the requests a mini-program sends to object
// storage with a ticket: the multipart POST of wx.uploadFile and a plain
// PUT. Tests of both storage adapters use it, so both are held to the same
// client code.
package storagetest

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// WxUploadFile builds the request wx.uploadFile sends for
//
//	wx.uploadFile({url, filePath, name, formData})
//
// a multipart/form-data POST with every formData entry as a text field
// first, then the file under name, with its file name and the Content-Type
// WeChat guesses from the file's extension (partType).
func WxUploadFile(url string, formData map[string]string, name, fileName, partType string, data []byte) *http.Request {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	keys := make([]string, 0, len(formData))
	for k := range formData {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		// WriteField cannot fail on a bytes.Buffer.
		_ = w.WriteField(k, formData[k])
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, fileName))
	if partType != "" {
		h.Set("Content-Type", partType)
	}
	part, _ := w.CreatePart(h)
	_, _ = part.Write(data)
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, url, &body)
	if err != nil {
		panic(fmt.Sprintf("storagetest: %v", err))
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("User-Agent", "Mozilla/5.0 miniProgram wechatdevtools")
	return req
}

// Put builds a PUT of data to url with the given headers.
func Put(url string, headers map[string]string, data []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		panic(fmt.Sprintf("storagetest: %v", err))
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// Send performs req over the network and returns the status and body.
func Send(c *http.Client, req *http.Request) (int, string, error) {
	res, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, strings.TrimSpace(string(b)), err
}

// Bytes returns n bytes of a repeating pattern, a stand-in for a file.
func Bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}
