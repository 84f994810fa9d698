"""``VideoMAEPretrainer(compile=...)``: the backbone and the decoder are
compiled in place, the checkpoint keys do not change and a training step
gives the eager model's loss and gradients.

``backend='aot_eager'`` traces forward and backward through TorchDynamo and
AOTAutograd (everything compile does except generating kernels), so the test
needs no C++ toolchain and stays fast; the default inductor backend is what a
config's ``compile=True`` uses."""
import copy

import torch
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope

import mmvmae2  # noqa: F401

TINY = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
CFG = dict(
    type='VideoMAEPretrainer',
    backbone=dict(type='VideoMAEViT', arch=TINY, img_size=32, patch_size=8, num_frames=4,
                  out_type='raw'),
    neck=dict(type='VideoMAEPretrainDecoder', arch=dict(embed_dims=16, num_heads=2,
                                                        num_layers=1), mode='efficient'),
    head=dict(type='VideoMAEPretrainHead'))


def step(model, video, enc, dec):
    model.zero_grad()
    pred, index, valid = model.reconstruct_tokens(video, enc, dec)
    loss = model.head.loss(pred, index, valid, model.to_pixels(video), enc)['loss']
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def test_compiled_backbone_and_decoder_match_eager():
    init_default_scope('mmaction')
    torch.manual_seed(0)
    eager = MODELS.build(CFG)
    compiled = MODELS.build(dict(CFG, compile=dict(backend='aot_eager', dynamic=False)))
    compiled.load_state_dict(copy.deepcopy(eager.state_dict()))
    assert compiled.backbone._compiled_call_impl is not None
    assert compiled.neck._compiled_call_impl is not None
    assert eager.backbone._compiled_call_impl is None
    assert list(compiled.state_dict()) == list(eager.state_dict())  # no _orig_mod. prefix

    video = torch.randn(2, 3, 4, 32, 32)
    enc = torch.zeros(2, 32, dtype=torch.bool)
    enc[0, 8:], enc[1, :24] = True, True  # 8 visible tokens each
    dec = torch.zeros(2, 32, dtype=torch.bool)
    dec[:, ::4] = True
    loss_e, grads_e = step(eager, video, enc, dec)
    loss_c, grads_c = step(compiled, video, enc, dec)
    assert torch.allclose(loss_c, loss_e, rtol=1e-5, atol=1e-6)
    for name, grad in grads_e.items():
        assert torch.allclose(grads_c[name], grad, rtol=1e-4, atol=1e-6), name
