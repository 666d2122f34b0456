// Sign in: wx.login's code (or the simulator's dev code) for miniback's
// tokens, which the SDK keeps in wx storage.
import { api } from '../../api';
import { messageOf } from '../../errors';

export const HOME = '/pages/tasks/tasks';

Page({
  data: { busy: false, error: '' },

  async onLoad() {
    // Already signed in on this device: straight to the app.
    if (await api().session()) await wx.reLaunch({ url: HOME });
  },

  async onLogin() {
    if (this.data.busy) return;
    this.setData({ busy: true, error: '' });
    try {
      await api().login();
      await wx.reLaunch({ url: HOME });
    } catch (e) {
      this.setData({ error: messageOf(e) });
    } finally {
      this.setData({ busy: false });
    }
  },
});
