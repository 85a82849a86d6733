"""Faster, device-aware drop-ins for the families' audio feature extractors.

The log-mel front end is most of the harness's per-sample cost (≈0.2-0.6 s for a 300 s clip on
two CPU cores). These subclasses keep the processors' own padding, masking and token-count logic
(the processors call them exactly as before) and change only where and how the spectrogram is
computed:

* ``FastWhisperFeatureExtractor``: the same arithmetic as ``WhisperFeatureExtractor``'s torch
  path, on a chosen device, with the power spectrum as re² + im² instead of ``abs() ** 2``
  (no square root) and the result left on that device (no device -> numpy -> device round trip).
  Matches the reference within float32 rounding (tests/test_runner_prefetch.py).
* ``FastPhi4FeatureExtractor``: Phi-4's steps (pre-emphasis, Hamming window, rFFT, mel bank, log)
  on a chosen device in float32. The reference promotes every frame to float64 because its window
  is float64, then casts the spectrum back to complex64; the FFT in float64 is most of its cost
  (265-295 ms of a 300 s clip on two CPU cores, BENCHMARKS.md). Log-mel values match the reference within 2e-3
  (tests/test_runner_prefetch.py), far below what the model's bf16 weights resolve. A padded batch
  of several clips keeps the reference path (its frame masking), on the chosen device.

``accelerate_feature_extractor(fe, device)`` returns the drop-in for a known extractor class and
the extractor itself otherwise (Gemma-3n's is numpy-only and is left as is).
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import Phi4MultimodalFeatureExtractor, WhisperFeatureExtractor


class FastWhisperFeatureExtractor(WhisperFeatureExtractor):
    compute_device: str = "cpu"

    def __call__(self, raw_speech, *args, device: str | None = None, **kwargs):
        return super().__call__(raw_speech, *args, device=device or self.compute_device, **kwargs)

    def _torch_extract_fbank_features(self, waveform: np.ndarray, device: str = "cpu") -> torch.Tensor:
        # Same steps as WhisperFeatureExtractor._torch_extract_fbank_features (transformers 5.x).
        wave = torch.from_numpy(np.ascontiguousarray(waveform)).to(device, torch.float32)
        if self.dither != 0.0:
            wave = wave + self.dither * torch.randn(wave.shape, dtype=wave.dtype, device=wave.device)
        window = torch.hann_window(self.n_fft, device=wave.device)
        stft = torch.stft(wave, self.n_fft, self.hop_length, window=window, return_complex=True)[..., :-1]
        power = stft.real.square() + stft.imag.square()
        mel_filters = torch.from_numpy(self.mel_filters).to(wave.device, torch.float32)
        log_spec = (mel_filters.T @ power).clamp_(min=1e-10).log10_()
        if wave.dim() == 2:  # per-clip dynamic range, as the reference
            peak = log_spec.amax(dim=(1, 2), keepdim=True)
        else:
            peak = log_spec.max()
        log_spec = torch.maximum(log_spec, peak - 8.0)
        return log_spec.add_(4.0).div_(4.0)


class FastPhi4FeatureExtractor(Phi4MultimodalFeatureExtractor):
    compute_device: str = "cpu"

    def __call__(self, raw_speech, *args, device: str | None = None, **kwargs):
        return super().__call__(raw_speech, *args, device=device or self.compute_device, **kwargs)

    def _torch_extract_fbank_features(self, waveform, audio_lengths, device="cpu"):
        waveform = waveform.to(device)
        if waveform.shape[0] != 1:
            return super()._torch_extract_fbank_features(waveform, audio_lengths, device)
        # Same steps as Phi4MultimodalFeatureExtractor._torch_extract_fbank_features (transformers 5.x),
        # with pre-emphasis applied once to the waveform instead of to every overlapping frame: inside
        # a frame y[j] = x[j] - p * x[j-1]; the reference's first sample of each frame uses the frame's
        # own first sample as its predecessor, x[0] * (1 - p), fixed up after framing.
        wave = waveform.to(torch.float32)[0]
        emphasized = torch.cat([wave[:1], wave[1:] - self.preemphasis * wave[:-1]])
        window = torch.hamming_window(self.win_length, periodic=False, device=wave.device, dtype=torch.float32) * 32768
        frames = emphasized.unfold(-1, self.win_length, self.hop_length) * window
        starts = wave[: (frames.shape[0] - 1) * self.hop_length + 1 : self.hop_length]
        frames[:, 0] = starts * (1 - self.preemphasis) * window[0]
        spectrum = torch.view_as_real(torch.fft.rfft(frames, n=self.n_fft, dim=-1))
        power = spectrum.square().sum(dim=-1)
        mel_filters = torch.from_numpy(self.mel_filters).to(wave.device, torch.float32)
        return (power @ mel_filters).clamp_(min=1.0).log_().unsqueeze(0)


# Reference class -> drop-in subclass (exact class match: a subclass may change the arithmetic).
FAST_EXTRACTORS: dict[type, type] = {
    WhisperFeatureExtractor: FastWhisperFeatureExtractor,
    Phi4MultimodalFeatureExtractor: FastPhi4FeatureExtractor,
}


def accelerate_feature_extractor(fe, device: str | torch.device = "cpu"):
    """The drop-in for ``fe`` computing on ``device`` (a copy), or ``fe`` itself if none exists.

    Passing a drop-in again just moves it to the new device."""
    fast_cls = FAST_EXTRACTORS.get(type(fe))
    if fast_cls is None:
        if type(fe) in FAST_EXTRACTORS.values():
            fe.compute_device = str(device)
        return fe
    fast = fast_cls(**fe.to_dict())
    fast.compute_device = str(device)
    return fast


def feature_device_of(fe) -> str | None:
    """Where ``fe`` computes (None: a reference extractor with no device choice)."""
    return getattr(fe, "compute_device", None) if type(fe) in FAST_EXTRACTORS.values() else None


__all__ = [
    "FAST_EXTRACTORS", "FastPhi4FeatureExtractor", "FastWhisperFeatureExtractor",
    "accelerate_feature_extractor", "feature_device_of",
]
