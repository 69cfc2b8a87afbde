"""Huawei Cloud: ModelArts inference services (`huawei-modelarts`)."""
