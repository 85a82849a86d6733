"""Citation and license of the benchmark, shared by the dataset card, metric card and Space."""

LICENSE = "cc-by-nc-4.0"

CITATION = """@article{he2025audiomarathon,
  title   = {AudioMarathon: A Comprehensive Benchmark for Long-Context Audio Understanding and Efficiency in Audio LLMs},
  author  = {He, Peize and Wen, Zichen and Wang, Yubo and Wang, Yuxuan and Liu, Xiaoqian and Huang, Jiajie and Lei, Zehui and Gu, Zhuangcheng and Jin, Xiangqi and Yang, Jiabing and Li, Kai and Liu, Zhifei and Li, Weijia and Wang, Cunxiang and He, Conghui and Zhang, Linfeng},
  journal = {arXiv preprint arXiv:2510.07293},
  year    = {2025}
}"""

PAPER_URL = "https://arxiv.org/abs/2510.07293"
