"""Configuration of a tiny Aero-shaped audio LLM (remote code of the test checkpoint)."""

from transformers import AutoConfig, PretrainedConfig
from transformers.models.auto import CONFIG_MAPPING


class AeroConfig(PretrainedConfig):
    model_type = "aero"
    sub_configs = {"text_config": AutoConfig, "audio_config": AutoConfig}

    def __init__(self, audio_config=None, text_config=None, audio_token_index=151667, **kwargs):
        self.audio_token_index = audio_token_index
        if isinstance(audio_config, dict):
            audio_config = CONFIG_MAPPING[audio_config.get("model_type", "qwen2_audio_encoder")](
                **{k: v for k, v in audio_config.items() if k != "model_type"})
        elif audio_config is None:
            audio_config = CONFIG_MAPPING["qwen2_audio_encoder"]()
        if isinstance(text_config, dict):
            text_config = CONFIG_MAPPING[text_config.get("model_type", "qwen2")](
                **{k: v for k, v in text_config.items() if k != "model_type"})
        elif text_config is None:
            text_config = CONFIG_MAPPING["qwen2"]()
        self.audio_config = audio_config
        self.text_config = text_config
        super().__init__(**kwargs)
