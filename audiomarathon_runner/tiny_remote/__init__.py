"""The model code of a checkpoint that is not a transformers class (loaded with ``trust_remote_code``),
written here for its tiny test model: ``configuration_aero.py`` / ``modeling_aero.py`` /
``processing_aero.py`` have the shape of Aero-1-Audio's (a Whisper-style audio encoder, a projector,
a Qwen2 decoder; a processor that expands one audio placeholder per 30 s window). The adapter's
``build_tiny`` saves them beside the weights with ``auto_map``, so the tiny checkpoint loads through
``from_pretrained(..., trust_remote_code=True)`` as a user's Aero checkpoint does.

The files import nothing of this project: in a checkpoint folder they stand alone.
"""
