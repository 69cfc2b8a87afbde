"""Baidu AI Cloud: Qianfan compute units (`baidu-qianfan`)."""
