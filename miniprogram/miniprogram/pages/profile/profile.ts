// My profile: read it, edit nickname and bio (PATCH /v1/me, which the SDK
// sends as a POST with X-HTTP-Method-Override since wx.request has no
// PATCH), change the avatar (wx.chooseMedia, then the SDK's upload: a
// ticket, wx.uploadFile straight to storage, completion), log out.
import { api } from '../../api';
import { fieldErrorsOf, toastError } from '../../errors';
import type { User } from '../../lib/miniback-sdk/index';

Page({
  data: {
    user: null as User | null,
    nickname: '',
    bio: '',
    saving: false,
    uploading: false,
    fieldErrors: {} as Record<string, string>,
  },

  async onLoad() {
    await this.load();
  },

  async onPullDownRefresh() {
    await this.load();
    await wx.stopPullDownRefresh();
  },

  async load() {
    try {
      const { data } = await api().GET('/v1/me');
      this.setData({ user: data, nickname: data.nickname, bio: data.bio });
    } catch (e) {
      toastError(e);
    }
  },

  onNicknameInput(e: WechatMiniprogram.Input) {
    this.setData({ nickname: e.detail.value });
  },

  onBioInput(e: WechatMiniprogram.Input) {
    this.setData({ bio: e.detail.value });
  },

  async onSave() {
    this.setData({ saving: true, fieldErrors: {} });
    try {
      const { data } = await api().PATCH('/v1/me', { body: { nickname: this.data.nickname, bio: this.data.bio } });
      this.setData({ user: data, nickname: data.nickname, bio: data.bio });
      await wx.showToast({ title: '已保存', icon: 'success' });
    } catch (e) {
      this.setData({ fieldErrors: fieldErrorsOf(e) });
      toastError(e);
    } finally {
      this.setData({ saving: false });
    }
  },

  async onChooseAvatar() {
    let picked: WechatMiniprogram.MediaFile;
    try {
      const res = await wx.chooseMedia({ count: 1, mediaType: ['image'], sizeType: ['compressed'] });
      picked = res.tempFiles[0];
    } catch {
      return; // cancelled
    }
    this.setData({ uploading: true });
    try {
      const up = await api().upload({
        purpose: 'avatar',
        contentType: imageType(picked.tempFilePath),
        size: picked.size,
        filePath: picked.tempFilePath,
      });
      const { data } = await api().PATCH('/v1/me', { body: { avatar_upload_id: up.id } });
      this.setData({ user: data });
      await wx.showToast({ title: '头像已更新', icon: 'success' });
    } catch (e) {
      toastError(e);
    } finally {
      this.setData({ uploading: false });
    }
  },

  async onLogout() {
    await api().logout();
    await wx.reLaunch({ url: '/pages/login/login' });
  },
});

// The media type of a picked image, from its file name.
function imageType(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return ext === 'png' ? 'image/png' : ext === 'webp' ? 'image/webp' : ext === 'gif' ? 'image/gif' : 'image/jpeg';
}
