"""One sample through a model loaded here: audio -> the profile's request -> model inputs ->
greedy generate, timing each part (preparation, encoder, prefill, decode, the harness around the
model) and recording the compression method's statistics."""

from __future__ import annotations

import time
from typing import Sequence

import torch

from audiomarathon.run_identity import GREEDY
from audiomarathon.tasks import SAMPLING_RATE

from .adapters import AudioLMAdapter
from .compression import compression_session
from .prediction import new_record, set_error, set_reply
from .prefetch import Prefetcher, Prepared, prepare_one
from .profiles import peak_normalize
from .run_config import RunConfig
from .samples import Sample, apply_audio_control
from .timing import Clock, EncoderTimer, FirstTokenStreamer, peak_memory, reset_peak_memory


class SampleRunner:
    """Evaluates samples one at a time with a loaded adapter, measuring where time goes."""

    def __init__(self, adapter: AudioLMAdapter, config: RunConfig):
        self.adapter = adapter
        self.config = config
        self.compression = config.compression
        layers = len(adapter.decoder_layers)
        if self.compression.kind == "prune" and not config.layer < layers:
            raise ValueError(f"--layer {config.layer}: pruning needs K < the {layers} decoder layers of {config.model}")
        self.device = adapter.device
        self.family = config.family(adapter)
        self.evaluated = 0  # samples run in this process (the first is the warm-up)
        self.prefetch = config.prefetch if config.prefetch is not None else int(self.device.type != "cpu")
        # Prefetched samples are prepared entirely on the CPU (features included) and moved to
        # the model's device just before their turn: the worker never allocates device memory
        # while another sample's peak memory is being measured. Inline preparation computes the
        # features on the model's device, the fastest place when nothing overlaps it.
        self.prepare_device = "cpu" if self.prefetch else None
        adapter.set_feature_device("cpu" if self.prefetch else adapter.device)

    def prepare(self, sample: Sample):
        """Decode audio, apply the control, build model inputs: everything before the model."""
        audio = sample.load_audio()
        if audio.size > self.config.max_audio_seconds * SAMPLING_RATE:
            raise ValueError(f"sample {sample.id}: audio is {audio.size / SAMPLING_RATE:.1f} s, over the "
                             f"--max-audio-seconds limit of {self.config.max_audio_seconds:g} s")
        audio = apply_audio_control(audio, self.config.audio_control, sample.id, self.config.seed)
        request = self.config.request(sample, self.family)
        if request.peak_normalize:
            audio = peak_normalize(audio)
        inputs = self.adapter.build_inputs(audio, request.text, device=self.prepare_device, system=request.system,
                                           transcribe=request.transcribe)
        return audio, inputs, request

    def prepared(self, samples: Sequence[Sample]):
        """``Prepared`` samples in order, ``config.prefetch`` ahead in a background thread."""
        return Prefetcher(samples, self.prepare, depth=self.prefetch)

    def records(self, samples: Sequence[Sample], run_id: str):
        """The records of ``samples`` in order, one at a time, the next prepared ahead (the API
        backend's ``ApiRunner.records`` gives them as its requests finish)."""
        return (self.record(prepared.item, run_id, prepared) for prepared in self.prepared(samples))

    def generate(self, sample: Sample, prepared: Prepared | None = None) -> tuple[str, dict, dict, bool]:
        """reply, timings, compression statistics, and whether the reply stopped at the cap (no end of turn)."""
        clock = Clock(self.device)
        if prepared is None:
            prepared = prepare_one(sample, self.prepare)
            prepared.wait_ms = prepared.prepare_ms  # prepared inline: all of it is exposed
        if prepared.error is not None:
            raise prepared.error
        audio, inputs, request = prepared.value
        inputs = inputs.to(self.device)
        mask = self.adapter.audio_token_mask(inputs)
        streamer = FirstTokenStreamer(clock)
        reset_peak_memory(self.device)
        eos = self.adapter.eos_token_ids
        with torch.inference_mode(), EncoderTimer(self.adapter.audio_encoder, self.device) as enc:
            with compression_session(self.adapter.model, inputs, mask, self.compression, sample=sample.id) as stats:
                clock.mark("start")
                out = self.adapter.model.generate(
                    **inputs, **GREEDY, **self.adapter.generate_kwargs(),
                    max_new_tokens=request.max_new_tokens, streamer=streamer,
                    eos_token_id=eos or None, pad_token_id=self.adapter.tokenizer.pad_token_id,
                )
        prompt_len = inputs["input_ids"].shape[-1]
        new = out[0, prompt_len:]
        hits = [i for i, t in enumerate(new.tolist()) if t in eos]
        n_out = hits[0] + 1 if hits else new.numel()
        # Generation stops at the end of the turn; a reply without one that used every allowed
        # token was cut off by the cap.
        hit_cap = not hits and new.numel() >= request.max_new_tokens
        reply = self.adapter.decode(new)
        prefill = clock.ms("start", "first_token")
        total = clock.ms("start", "end")
        decode = (total - prefill) if (total is not None and prefill is not None) else None
        stats_d = stats.to_dict()
        timings = {
            "audio_seconds": round(audio.size / SAMPLING_RATE, 3),
            "preprocess_ms": prepared.prepare_ms,  # its own cost, overlapped or not
            "prefetch_wait_ms": prepared.wait_ms,  # the part the loop waited for (exposed)
            "encoder_ms": enc.total_ms,
            "prefill_ms": prefill,
            "decode_ms": decode,
            "total_ms": total,
            "output_tokens": int(n_out),
            "tokens_per_s": (max(n_out - 1, 0) / (decode / 1000.0)) if decode else None,
            "input_tokens": int(prompt_len),
            "audio_tokens": int(mask.sum()),
            "kv_cache_bytes": stats_d.get("kv_cache_bytes"),
            **peak_memory(self.device),
            "warmup": self.evaluated == 0,
        }
        self.evaluated += 1
        return reply, timings, stats_d, hit_cap

    def record(self, sample: Sample, run_id: str, prepared: Prepared | None = None) -> dict:
        """Run one sample; failures (OOM, bad audio) become a record with ``error`` set.

        ``prepared``: the sample already prepared (by ``prepared()``); None prepares it here."""
        t0 = time.perf_counter()
        waited = prepared.wait_ms if prepared is not None else 0.0
        rec = new_record(sample, run_id)
        try:
            reply, timings, stats, hit_cap = self.generate(sample, prepared)
            set_reply(rec, reply, sample, hit_cap)
            rec.update(timings=timings, compression=stats)
            # Harness time the model waited for: everything except the model's own generate call,
            # including the wait for a prefetched sample (its overlapped preparation is not).
            timings["outside_ms"] = waited + (time.perf_counter() - t0) * 1000.0 - (timings["total_ms"] or 0.0)
        except torch.OutOfMemoryError as err:
            rec["error"] = f"OutOfMemoryError: {str(err).splitlines()[0] if str(err) else 'out of memory'}"
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception as err:  # noqa: BLE001 - one bad sample must not end the run
            set_error(rec, err)
        return rec
