"""A tiny Aero-shaped audio LLM (remote code of the test checkpoint): a Whisper-style encoder over
each 30 s window, a linear projector, and a Qwen2 causal LM whose input embeddings at the audio
placeholder positions are replaced by the projected audio states."""

import torch
from torch import nn
from transformers import AutoModel, AutoModelForCausalLM, GenerationMixin, PreTrainedModel

from .configuration_aero import AeroConfig


class AeroAudioProjector(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.linear = nn.Linear(config.audio_config.d_model, config.text_config.hidden_size)

    def forward(self, states):
        return self.linear(states)


class AeroPreTrainedModel(PreTrainedModel):
    config_class = AeroConfig
    base_model_prefix = "model"
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True
    _skip_keys_device_placement = "past_key_values"


class AeroForConditionalGeneration(AeroPreTrainedModel, GenerationMixin):
    def __init__(self, config):
        super().__init__(config)
        self.audio_tower = AutoModel.from_config(config.audio_config)
        self.multi_modal_projector = AeroAudioProjector(config)
        self.language_model = AutoModelForCausalLM.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.language_model.set_input_embeddings(value)

    def get_output_embeddings(self):
        return self.language_model.get_output_embeddings()

    def get_decoder(self):
        return self.language_model.get_decoder()

    def audio_states(self, input_features, feature_attention_mask):
        """[tokens, hidden]: each window's encoder output up to its valid length, projected, in order."""
        states = self.audio_tower(input_features).last_hidden_state
        frames = feature_attention_mask.sum(-1)
        lengths = ((frames - 1) // 2 + 1 - 2) // 2 + 1  # conv stride 2, then 2x pooling
        kept = [states[i, : int(n)] for i, n in enumerate(lengths)]
        return self.multi_modal_projector(torch.cat(kept, dim=0))

    def forward(self, input_ids=None, attention_mask=None, input_features=None, feature_attention_mask=None,
                inputs_embeds=None, **kwargs):
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        if input_features is not None and input_ids is not None:
            audio = self.audio_states(input_features, feature_attention_mask).to(inputs_embeds.dtype)
            slots = input_ids == self.config.audio_token_index
            if int(slots.sum()) != audio.shape[0]:
                raise ValueError(f"{int(slots.sum())} audio placeholder tokens but {audio.shape[0]} audio states")
            inputs_embeds = inputs_embeds.masked_scatter(slots[..., None].expand_as(inputs_embeds), audio)
        return self.language_model(inputs_embeds=inputs_embeds, attention_mask=attention_mask, **kwargs)

    def prepare_inputs_for_generation(self, *args, **kwargs):
        # The audio is read once, in the prefill; decode steps reuse the cache.
        features = kwargs.pop("input_features", None)
        feature_mask = kwargs.pop("feature_attention_mask", None)
        model_inputs = super().prepare_inputs_for_generation(*args, **kwargs)
        if kwargs.get("is_first_iteration", False) or not kwargs.get("use_cache", True):
            model_inputs["input_features"] = features
            model_inputs["feature_attention_mask"] = feature_mask
        return model_inputs
