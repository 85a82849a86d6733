"""The adapter interface: what the runner (and the compression code) need to know about a family.

An adapter wraps one loaded model + its processor. It turns (16 kHz audio, prompt text) into model
inputs with the family's own processor and chat template, applying the family's long-audio
policy, and tells where the audio tokens sit in ``input_ids``.

The adapter class is the family's one unit: everything about the family is reachable from it (the
checkpoints' ``model_types``, the transformers ``model_class``, the ``family`` name, the model
card's ``system_prompt``, the view the compression code takes of its text decoder,
``decoder_view``, and its tiny random model for tests, ``tiny_config`` / ``build_tiny`` /
``tiny_decoder``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Sequence

from audiomarathon.tasks import SAMPLING_RATE  # noqa: F401 - re-exported for the family adapters

if TYPE_CHECKING:  # a family's facts (its class attributes) load without torch or numpy
    import numpy as np
    import torch

    from ..tiny_parts import TinyTokens

NATIVE = "native"  # the whole clip is one audio entry; the encoder handles any length
SEGMENTS = "segments"  # the clip is cut into fixed windows, one audio entry (placeholder) each


class AudioInputError(ValueError):
    """The audio of a sample cannot be given to the model (empty, too long, wrong shape)."""


@dataclass(frozen=True)
class LongAudioPolicy:
    kind: str  # NATIVE or SEGMENTS
    segment_seconds: float | None = None  # SEGMENTS: window length
    max_seconds: float | None = None  # longest clip the family accepts; None = no limit

    def describe(self) -> str:
        if self.kind == SEGMENTS:
            text = f"{self.segment_seconds:g} s segments, one audio entry each"
        else:
            text = "native (whole clip as one audio entry)"
        return text + (f", up to {self.max_seconds:g} s" if self.max_seconds else "")


class AudioOnlyProcessor:
    """The audio + text half of a multimodal processor, for families whose full processor also
    builds image/video parts that need torchvision. Subclasses implement ``__call__`` the way
    their processor expands the audio placeholder."""

    def __init__(self, tokenizer, feature_extractor):
        self.tokenizer = tokenizer
        self.feature_extractor = feature_extractor
        self.audio_token = tokenizer.audio_token
        self.audio_token_id = tokenizer.convert_tokens_to_ids(self.audio_token)
        self.chat_template = tokenizer.chat_template

    def apply_chat_template(self, *args, **kwargs):
        return self.tokenizer.apply_chat_template(*args, **kwargs)


class AudioLMAdapter:
    """Base class; one subclass per family, registered by config ``model_type``."""

    model_types: ClassVar[tuple[str, ...]] = ()
    model_class: ClassVar[str] = ""  # transformers class name used with from_pretrained
    family: ClassVar[str] = ""
    # Names (last path component) under which the family keeps its audio encoder; used only to
    # time it with forward hooks, so it survives attribute moves between transformers versions.
    audio_encoder_names: ClassVar[tuple[str, ...]] = ("audio_tower",)
    # The system prompt the model card documents for this family (None: the card sends none, and
    # neither do we). The one place it is written: the run profiles and the API backend read it here.
    system_prompt: ClassVar[str | None] = None
    # Whether the family has its own transcription mode (a request format of its tokenizer) that
    # replaces the chat prompt for speech recognition.
    has_transcription_mode: ClassVar[bool] = False
    # How the compression code sees the family's text decoder: a key of
    # compression.decoder_views.DECODER_VIEWS, or None for the layout transformers' decoders share.
    decoder_view: ClassVar[str | None] = None
    # Whether the family's checkpoints are their own Python code (config.json ``auto_map``), loaded
    # only where the run allows it (``--trust-remote-code``).
    remote_code: ClassVar[bool] = False

    def __init__(self, model, processor, model_id: str = ""):
        self.model = model
        self.processor = processor
        self.model_id = model_id
        if model is not None:
            self.set_feature_device(self.device)

    def set_feature_device(self, device) -> None:
        """Compute log-mel features on ``device`` with the fast drop-in extractor (same values as
        the family's own; see audiomarathon_runner.features). The model's device by default; the
        runner's prefetch thread uses the CPU so it never allocates on the model's GPU."""
        from ..features import accelerate_feature_extractor

        fe = getattr(self.processor, "feature_extractor", None)
        if fe is None:
            return
        fast = accelerate_feature_extractor(fe, device)
        self.processor.feature_extractor = fast
        if getattr(self.processor, "audio_processor", None) is fe:  # Phi-4 keeps both names
            self.processor.audio_processor = fast

    @property
    def feature_device(self) -> str | None:
        from ..features import feature_device_of

        return feature_device_of(getattr(self.processor, "feature_extractor", None))

    # ------------------------------------------------------------ loading
    @classmethod
    def load_processor(cls, path: str, **kwargs):
        from transformers import AutoProcessor

        return AutoProcessor.from_pretrained(path, **kwargs)

    @classmethod
    def load_model(cls, path: str, dtype, device, **kwargs):
        import transformers

        model_cls = getattr(transformers, cls.model_class)
        model = model_cls.from_pretrained(path, dtype=dtype, **kwargs)
        return model.to(device).eval()

    # ------------------------------------------------------------ the tiny model (tests, the demo)
    @classmethod
    def tiny_config(cls, tokens: TinyTokens):
        """The family's transformers config at test size (``tiny_parts``' sizes) for ``tokens``'
        vocabulary: the one definition of its tiny model, whole (``build_tiny``) or its text
        decoder alone (``tiny_decoder``)."""
        raise NotImplementedError(f"{cls.family}: no tiny model")

    @classmethod
    def build_tiny(cls, path: Path) -> Path:
        """Save a tiny random model of the family, with a working processor (a byte-level tokenizer
        with the family's special tokens and chat template, its feature extractor), to ``path``:
        ``load_adapter(path)`` loads it through the same ``from_pretrained`` path a user hits."""
        raise NotImplementedError(f"{cls.family}: no tiny model")

    @classmethod
    def tiny_decoder(cls):
        """The family's tiny text decoder alone (no tokenizer: ``tiny_parts.DECODER_TOKENS``), the
        language model transformers has a causal-LM class for, else the whole model."""
        import transformers

        from ..tiny_parts import DECODER_TOKENS

        config = cls.tiny_config(DECODER_TOKENS)
        try:
            return transformers.AutoModelForCausalLM.from_config(config.get_text_config())
        except ValueError:  # a text config no causal-LM class takes alone (Qwen2.5-Omni's M-RoPE decoder)
            return cls.random_model(config)

    @classmethod
    def random_model(cls, config):
        """The family's ``model_class`` made from ``config``, randomly initialised."""
        import transformers

        return getattr(transformers, cls.model_class)(config)

    # ------------------------------------------------------------ family facts
    @property
    def tokenizer(self):
        return getattr(self.processor, "tokenizer", self.processor)

    @property
    def policy(self) -> LongAudioPolicy:
        """Native long audio unless a family overrides it."""
        return LongAudioPolicy(NATIVE)

    @property
    def audio_token_id(self) -> int:
        # Every supported processor exposes the id of its audio placeholder token.
        return int(self.processor.audio_token_id)

    def expected_audio_tokens(self, num_samples: int) -> int:
        """Audio tokens the processor inserts for a clip of ``num_samples`` (after the policy)."""
        raise NotImplementedError

    @property
    def text_decoder(self) -> torch.nn.Module:
        """The text decoder: the same module the compression hooks attach to."""
        from ..compression.model_parts import text_decoder

        return text_decoder(self.model)

    @property
    def decoder_layers(self) -> Sequence[torch.nn.Module]:
        return self.text_decoder.layers

    @property
    def audio_encoder(self) -> torch.nn.Module | None:
        best = None
        for name, module in self.model.named_modules():
            if name.rsplit(".", 1)[-1] in self.audio_encoder_names and (best is None or len(name) < len(best[0])):
                best = (name, module)
        return best[1] if best else None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def eos_token_ids(self) -> list[int]:
        ids = self.model.generation_config.eos_token_id
        if ids is None:
            ids = self.tokenizer.eos_token_id
        return [ids] if isinstance(ids, int) else list(ids or [])

    # ------------------------------------------------------------ inputs
    def check_audio(self, audio) -> np.ndarray:
        import numpy as np

        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise AudioInputError(f"audio must be mono 1-D samples, got shape {audio.shape}")
        if audio.size == 0:
            raise AudioInputError("audio is empty (0 samples)")
        if not np.isfinite(audio).all():
            raise AudioInputError("audio contains NaN or infinite samples")
        limit = self.policy.max_seconds
        if limit and audio.size > limit * SAMPLING_RATE:
            raise AudioInputError(
                f"audio is {audio.size / SAMPLING_RATE:.1f} s, longer than the {limit:g} s "
                f"{self.family} accepts ({self.policy.describe()})"
            )
        return audio

    def split(self, audio: np.ndarray) -> list[np.ndarray]:
        """Apply the long-audio policy: the list of audio entries for one clip."""
        if self.policy.kind == NATIVE:
            return [audio]
        size = int(self.policy.segment_seconds * SAMPLING_RATE)
        return [audio[i : i + size] for i in range(0, audio.size, size)]

    def messages(self, prompt: str, n_audio: int, system: str | None = None) -> list[dict]:
        """The chat: an optional system turn, then one user turn with the audio entries first and
        the prompt after them (the order every family's model card uses)."""
        content = [{"type": "audio"} for _ in range(n_audio)] + [{"type": "text", "text": prompt}]
        head = [{"role": "system", "content": system}] if system is not None else []
        return [*head, {"role": "user", "content": content}]

    def render_text(self, prompt: str, n_audio: int, system: str | None = None) -> str:
        owner = self.processor if getattr(self.processor, "chat_template", None) else self.tokenizer
        return owner.apply_chat_template(self.messages(prompt, n_audio, system), tokenize=False,
                                         add_generation_prompt=True)

    def build_inputs(self, audio, prompt: str, device=None, *, system: str | None = None,
                     transcribe: str | None = None):
        """Model inputs (batch of 1) for one clip and prompt, on ``device`` (default: the model's).

        ``system``: a system turn before the prompt. ``transcribe``: a language code; the clip goes
        through the family's own transcription mode instead of the chat (``prompt`` and ``system``
        are then unused). Only families with ``has_transcription_mode`` accept it."""
        audio = self.check_audio(audio)
        entries = self.split(audio)
        if transcribe is not None:
            if not self.has_transcription_mode:
                raise ValueError(f"{self.family} has no transcription mode; transcribe={transcribe!r} cannot apply")
            inputs = self._transcription(entries, transcribe)
        else:
            inputs = self._chat_inputs(prompt, entries, system)
        return inputs.to(device or self.device)

    def _chat_inputs(self, prompt: str, entries: list[np.ndarray], system: str | None):
        return self._process(self.render_text(prompt, len(entries), system), entries)

    def _transcription(self, entries: list[np.ndarray], language: str):
        raise NotImplementedError

    def _process(self, text: str, entries: list[np.ndarray]):
        raise NotImplementedError

    def audio_token_mask(self, inputs) -> torch.BoolTensor:
        """Positions of audio tokens in ``input_ids`` (batch size 1) as a [seq_len] bool tensor."""
        ids = inputs["input_ids"]
        if ids.dim() == 2:
            if ids.shape[0] != 1:
                raise ValueError(f"audio_token_mask expects batch size 1, got {ids.shape[0]}")
            ids = ids[0]
        return ids == self.audio_token_id

    def generate_kwargs(self) -> dict:
        """Extra generate() arguments a family needs (none by default)."""
        return {}

    def decode(self, token_ids) -> str:
        return self.tokenizer.decode(token_ids, skip_special_tokens=True)

    def adapters(self) -> list[dict]:
        """Adapter weights loaded on top of the checkpoint's own (name, path, files' hash): none by default."""
        return []

    def describe(self) -> dict:
        return {
            "family": self.family,
            "model_type": self.model.config.model_type,
            "class": type(self.model).__name__,
            "long_audio": self.policy.describe(),
            "decoder_layers": len(self.decoder_layers),
            "card_system_prompt": self.system_prompt,
            "peft_adapters": self.adapters(),
        }


def whisper_frames(num_samples: int, hop_length: int) -> int:
    """Feature frames the Whisper extractor's attention mask counts for ``num_samples`` samples."""
    return math.ceil(num_samples / hop_length)


def whisper_tokens(frames: int) -> int:
    """Whisper-style encoder (conv stride 2) followed by 2x pooling: tokens for ``frames`` frames."""
    after_conv = (frames - 1) // 2 + 1
    return (after_conv - 2) // 2 + 1
