// My profile: read it, edit nickname and bio (PATCH /v1/me, which the SDK
// sends as a POST with X-HTTP-Method-Override since wx.request has no
// PATCH), log out.
import { api } from '../../api';
import { fieldErrorsOf, toastError } from '../../errors';
import type { User } from '../../lib/miniback-sdk/index';

Page({
  data: {
    user: null as User | null,
    nickname: '',
    bio: '',
    saving: false,
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

  async onLogout() {
    await api().logout();
    await wx.reLaunch({ url: '/pages/login/login' });
  },
});
