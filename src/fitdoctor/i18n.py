"""Report text in English and Chinese. A finding's message is rendered from its code and its
evidence, so the same Diagnosis reads in either language."""

from __future__ import annotations

import re
from typing import Any

LANGS = ("en", "zh")

MESSAGES: dict[str, dict[str, str]] = {
    "best": {
        "en": "Best {monitor} {value:.4g} at epoch {epoch:g}; the true level of that checkpoint "
              "(what it scores on new data) is about {expected:.4g} (95% CI {lo:.4g}-{hi:.4g}); "
              "{n_tied} other epoch(s) are statistically tied with it.",
        "zh": "最佳 {monitor} = {value:.4g}（epoch {epoch:g}）；该检查点的真实水平（在新数据上的表现）约 "
              "{expected:.4g}（95% 置信区间 {lo:.4g}-{hi:.4g}）；另有 {n_tied} 个 epoch 与之在统计上无差别。",
    },
    "lucky_best": {
        "en": "The best {monitor} {value:.4g} at epoch {epoch:g} is {excess:.3g} better than the "
              "estimated true level there ({trend:.4g}), while the noise is {sigma:.3g}: the peak is "
              "mostly luck. Expect about {trend:.4g} on new data; {n_tied_are} tied with it.",
        "zh": "epoch {epoch:g} 的最佳 {monitor} {value:.4g} 比该处估计的真实水平（{trend:.4g}）好 "
              "{excess:.3g}，而噪声为 {sigma:.3g}：这个峰值主要来自运气。在新数据上预计约 {trend:.4g}；"
              "有 {n_tied} 个 epoch 与其并列。",
    },
    "overfitting": {
        "en": "Overfitting from epoch {onset:g}: validation stopped improving at epoch "
              "{onset:g}{best_tied} while training kept improving ({train_from:.4g} "
              "-> {train_to:.4g}){gap_growth}{decline}.",
        "zh": "从 epoch {onset:g} 起过拟合：验证指标在 epoch {onset:g} 停止提升{best_tied}，"
              "而训练指标继续提升（{train_from:.4g} -> {train_to:.4g}）{gap_growth}{decline}。",
    },
    "overfitting.loss": {
        "en": "Overfitting from epoch {onset:g}: {monitor} stopped improving at epoch "
              "{onset:g}{best_tied} while the validation loss rose {loss_rise:.0%} "
              "above its minimum ({loss_min:.4g} at epoch {loss_epoch:g} -> {loss_end:.4g}) and "
              "the training loss kept falling ({train_loss_from:.4g} -> {train_loss_to:.4g})"
              "{decline}: the model memorises its training set and grows over-confident on the "
              "examples it gets wrong.",
        "zh": "从 epoch {onset:g} 起过拟合：{monitor} 在 epoch {onset:g} 停止提升{best_tied}，"
              "而验证损失比最低点上升了 {loss_rise:.0%}（epoch {loss_epoch:g} 的 {loss_min:.4g} -> "
              "{loss_end:.4g}），训练损失继续下降（{train_loss_from:.4g} -> {train_loss_to:.4g}）"
              "{decline}：模型在记忆训练集，对判错的样本越来越自信。",
    },
    "note.val_size_inferred": {
        "en": "validation size {n} inferred from the granularity of {monitor} (every value is a "
              "multiple of 1/{n}); its sampling error is in the interval of the best level",
        "zh": "验证集大小 {n} 由 {monitor} 的取值粒度推断（每个值都是 1/{n} 的倍数）；"
              "其抽样误差已计入最佳水平的区间",
    },
    "note.sampling_left_out": {
        "en": "the interval of the best level leaves out the validation set's sampling error, "
              "which every epoch shares (the log does not give the validation size): give "
              "--val-size N to include it",
        "zh": "最佳水平的区间没有计入验证集的抽样误差（每个 epoch 共享这一误差；日志没有给出验证集"
              "大小）：用 --val-size N 把它计入",
    },
    "no_learning": {
        "en": "Learned nothing from epoch {from_epoch:g} to {to_epoch:g}:{nl_loss}{nl_metric}{nl_collapse}."
              "{nl_constant}{nl_lr_high}{nl_lr_low}",
        "zh": "从 epoch {from_epoch:g} 到 {to_epoch:g} 没有学到东西：{nl_loss}{nl_metric}{nl_collapse}。"
              "{nl_constant}{nl_lr_high}{nl_lr_low}",
    },
    "stable_gap": {
        "en": "The smoothed train-val gap ({gap_end:.3g}) is not growing beyond noise after "
              "epoch {reach:g}: this is not overfitting.",
        "zh": "平滑后的训练-验证差距（{gap_end:.3g}）在 epoch {reach:g} 之后没有超出噪声的增长："
              "这不是过拟合。",
    },
    "stable_gap.val_holds": {
        "en": "The smoothed train-val gap grew to {gap_end:.3g} after epoch {reach:g}, but validation "
              "did not get worse: its loss ended at {loss_end:.3g}, not beyond noise above its lowest "
              "level since then ({loss_low:.3g}). Training is running ahead; this is not overfitting.",
        "zh": "平滑后的训练-验证差距在 epoch {reach:g} 之后增长到 {gap_end:.3g}，但验证集没有变差：验证损失"
              "结束时为 {loss_end:.3g}，没有超出噪声地高于此后的最低水平（{loss_low:.3g}）。"
              "这是训练集跑在前面，不是过拟合。",
    },
    "still_improving": {
        "en": "Still improving when it stopped: from epoch {from_epoch:g} to {to_epoch:g} "
              "{monitor} improved by {slope:.3g} per epoch (t {t_text}, beyond noise). Train longer.",
        "zh": "停止时仍在提升：从 epoch {from_epoch:g} 到 {to_epoch:g}，{monitor} 每个 epoch 改善 {slope:.3g}"
              "（t {t_text}，超出噪声）。应训练更久。",
    },
    "still_improving.schedule_ended": {
        "en": "Still improving when it stopped: from epoch {from_epoch:g} to {to_epoch:g} "
              "{monitor} improved by {slope:.3g} per epoch (t {t_text}, beyond noise), but the LR schedule had run "
              "out: the last LR is {lr_end_frac:.1%} of its peak. More epochs at that LR would "
              "change little; the schedule is what to lengthen or restart.",
        "zh": "停止时仍在提升：从 epoch {from_epoch:g} 到 {to_epoch:g}，{monitor} 每个 epoch 改善 {slope:.3g}"
              "（t {t_text}，超出噪声），但学习率调度已经走完：最后的学习率只有峰值的 "
              "{lr_end_frac:.1%}。在这样的学习率下多跑几个 epoch 作用不大，应拉长或重启的是学习率调度。",
    },
    "underfitting": {
        "en": "Underfitting: the training metric {train_col} is only {train_end:.4g} and still "
              "rising ({slope:.3g} per epoch, t {t_text}); the model has not fit the training "
              "data yet (heavy regularization, a low LR or too few epochs).",
        "zh": "欠拟合：训练指标 {train_col} 只有 {train_end:.4g} 且仍在上升（每 epoch {slope:.3g}，"
              "t {t_text}）；模型尚未拟合训练数据（正则过强、学习率过低或 epoch 太少）。",
    },
    "underfitting.with_overfitting": {
        "en": "Underfitting as well: the training metric {train_col} is only {train_end:.4g} and "
              "still rising ({slope:.3g} per epoch, t {t_text}), while validation stopped "
              "improving at epoch {onset:g}. The model is both short of fitting the training "
              "set and no longer generalising better: stopping at the overfitting onset comes "
              "first, not more epochs or less regularization.",
        "zh": "同时欠拟合：训练指标 {train_col} 只有 {train_end:.4g} 且仍在上升（每 epoch {slope:.3g}，"
              "t {t_text}），而验证指标在 epoch {onset:g} 停止提升。模型既没有拟合好训练集，"
              "也不再带来更好的泛化：首先应在过拟合起点停止，而不是增加 epoch 或减弱正则化。",
    },
    "plateau": {
        "en": "Plateau: neither validation nor training changed beyond noise over epochs "
              "{start:g}-{end:g}.",
        "zh": "平台期：epoch {start:g}-{end:g} 期间验证和训练指标都没有超出噪声的变化。",
    },
    "noisy_validation": {
        "en": "Noisy validation: epoch-to-epoch noise is {sigma:.3g}, {ratio:.0%} of the whole "
              "improvement; differences under {mdd:.3g} between two epochs are not meaningful."
              "{sampling}",
        "zh": "验证指标噪声大：epoch 间噪声为 {sigma:.3g}，占总提升的 {ratio:.0%}；两个 epoch 之间"
              "小于 {mdd:.3g} 的差异没有意义。{sampling}",
    },
    "instability": {
        "en": "Instability: {column} spikes or dips at epoch(s) {epochs} (robust z up to "
              "{max_z_text}).",
        "zh": "不稳定：{column} 在 epoch {epochs} 出现尖峰或骤降（稳健 z 值最高 {max_z_text}）。",
    },
    "non_finite": {
        "en": "Non-finite values: {column} is NaN or infinite from epoch {epoch:g} on; the run "
              "broke down there (lower the LR, clip gradients, check the data).",
        "zh": "出现非有限值：{column} 从 epoch {epoch:g} 起为 NaN 或无穷大；训练在此崩溃"
              "（降低学习率、裁剪梯度、检查数据）。",
    },
    "divergence": {
        "en": "Divergence from epoch {epoch:g}: {column} rose from its best {best:.4g} to "
              "{end:.4g}{collapse}. This is a breakdown of optimisation, not overfitting.",
        "zh": "从 epoch {epoch:g} 起发散：{column} 从最佳 {best:.4g} 升至 {end:.4g}{collapse}。"
              "这是优化崩溃，不是过拟合。",
    },
    "metric_disagreement": {
        "en": "Metrics disagree: validation loss bottomed out at epoch {loss_epoch:g} while "
              "smoothed {monitor} kept improving until epoch {acc_epoch:g} (+{gain:.3g}). The model grows "
              "over-confident on the examples it gets wrong; select by {monitor}, not by loss.",
        "zh": "指标不一致：验证损失在 epoch {loss_epoch:g} 见底，而平滑后的 {monitor} 持续提升到 epoch "
              "{acc_epoch:g}（+{gain:.3g}）。模型对判错的样本越来越自信；应按 {monitor} 而不是"
              "损失选择模型。",
    },
    "lr_epoch_confounded": {
        "en": "LR and epoch move together (r = {r:.2f}): this history cannot tell 'a {lr_lower}{lr_higher} LR "
              "causes overfitting' from 'more epochs cause overfitting'. A constant-LR control "
              "(or warm restarts) would.",
        "zh": "学习率与 epoch 同步变化（r = {r:.2f}）：这份记录无法区分“学习率{lr_lower}{lr_higher}导致过拟合”和"
              "“训练更多 epoch 导致过拟合”。恒定学习率对照实验（或热重启）才能区分。",
    },
    # without an overfitting onset there is no cause of overfitting to tell apart
    "lr_epoch_confounded.no_onset": {
        "en": "LR and epoch move together (r = {r:.2f}): in this history the LR's effect cannot be "
              "told apart from that of the number of epochs.",
        "zh": "学习率与 epoch 同步变化（r = {r:.2f}）：在这份记录中，学习率的作用无法与训练 epoch 数的"
              "作用区分开。",
    },
    "schedule": {
        "en": "Schedule: {description}.",
        "zh": "学习率调度：{description}。",
    },
    "schedule_mismatch.stopped_early": {
        "en": "Schedule mismatch: the run stopped at epoch {end:g}, long before its {family} "
              "schedule finished (fitted length {length:.4g} epochs); the LR was still at "
              "{lr_frac:.0%} of its peak.",
        "zh": "调度不匹配：训练在 epoch {end:g} 停止，远早于 {family} 调度结束（拟合长度 {length:.4g} "
              "个 epoch）；学习率仍为峰值的 {lr_frac:.0%}。",
    },
    "schedule_mismatch.rises_again": {
        "en": "Schedule mismatch: the LR falls to its minimum at epoch {low:g} and then rises "
              "again smoothly: the cosine's T_max ({length:g}) is shorter than the run.",
        "zh": "调度不匹配：学习率在 epoch {low:g} 降到最低后又平滑回升：余弦的 T_max（{length:g}）"
              "短于训练长度。",
    },
    "schedule_mismatch.declared_lr": {
        "en": "Schedule mismatch: the declared learning rate is {declared:.3g} but the logged "
              "peak LR is {logged:.3g}.",
        "zh": "调度不匹配：声明的学习率为 {declared:.3g}，而记录的学习率峰值为 {logged:.3g}。",
    },
    "schedule_mismatch.declared_scheduler": {
        "en": "Schedule mismatch: the config declares {declared} but the logged LR looks like "
              "{family}.",
        "zh": "调度不匹配：配置声明的是 {declared}，但记录的学习率看起来是 {family}。",
    },
    "short_history": {
        "en": "Only {n} points: too few to estimate noise or trends; findings are limited.",
        "zh": "只有 {n} 个数据点：不足以估计噪声或趋势，诊断有限。",
    },
}

# Recommendations: a title and a rationale each, rendered from the recommendation's evidence.
RECOMMENDATIONS: dict[str, dict[str, tuple[str, str]]] = {
    "fix_no_learning": {
        "en": ("Change the learning rate",
               "The run learned nothing{fx_at_lr}.{fx_new_lr}{fx_no_lr}"),
        "zh": ("修改学习率",
               "{fx_at_lr}训练没有学到东西。{fx_new_lr}{fx_no_lr}"),
    },
    "stabilise": {
        "en": ("Lower the LR, clip gradients, warm up",
               "The run broke down at epoch {epoch:g} ({column}). A smaller LR, gradient "
               "clipping and a short warmup are the usual cure."),
        "zh": ("降低学习率、裁剪梯度、加预热",
               "训练在 epoch {epoch:g} 崩溃（{column}）。更小的学习率、梯度裁剪和短预热是常用的解决办法。"),
    },
    "early_stop_at_onset": {
        "en": ("Stop at the overfitting onset",
               "Overfitting began at epoch {onset:g}; the {wasted} epochs after it bought "
               "nothing. Early stopping with patience {patience} on the {smoothing}-epoch "
               "average of {monitor} stops there without reacting to noise."),
        "zh": ("在过拟合起点停止",
               "过拟合从 epoch {onset:g} 开始；此后的 {wasted} 个 epoch 没有收益。对 {monitor} 的 "
               "{smoothing} 个 epoch 的移动平均使用 patience={patience} 的早停，可以在此停止且不被噪声误触发。"),
    },
    "regularize": {
        "en": ("Regularize more",
               "After epoch {onset:g} training kept improving{gap_growth} while validation did "
               "not: the model memorises. More regularization ({what}) trades training fit for "
               "generalisation.{underfit_end}"),
        "zh": ("加强正则化",
               "epoch {onset:g} 之后训练指标仍在提升{gap_growth}，验证指标却没有：模型在记忆训练集。"
               "更强的正则化（{what}）用训练拟合换取泛化。{underfit_end}"),
    },
    "warm_restarts": {
        "en": ("Warm restarts at the convergence epoch",
               "Validation converged after about {t0:g} epochs; restarting the cosine every "
               "{t0:g} epochs (T_mult 2) lifts the LR back before the model settles into "
               "memorising{wr_low_lr}."),
        "zh": ("在收敛点使用热重启",
               "验证指标约在 {t0:g} 个 epoch 后收敛；每 {t0:g} 个 epoch 重启余弦（T_mult=2）会在模型开始"
               "记忆之前把学习率拉回{wr_low_lr}。"),
    },
    "constant_lr_control": {
        "en": ("Run a constant-LR control",
               "LR and epoch are confounded (r = {r:.2f}). One run at a constant LR of {lr:.3g} "
               "(the LR at the onset) separates the two: if it overfits at the same epoch, the "
               "number of epochs drives it, not the LR."),
        "zh": ("做一次恒定学习率对照",
               "学习率与 epoch 混杂（r = {r:.2f}）。用恒定学习率 {lr:.3g}（起点处的学习率）跑一次即可区分："
               "若它在同一 epoch 开始过拟合，则原因是训练轮数而不是学习率。"),
    },
    "train_longer": {
        "en": ("Train longer",
               "{monitor} was still improving by {slope:.3g} per epoch from epoch {from_epoch:g} "
               "to {to_epoch:g} (t {t_text}). Give it {epochs} epochs (and stretch the schedule "
               "with it)."),
        "zh": ("训练更久",
               "从 epoch {from_epoch:g} 到 {to_epoch:g}，{monitor} 仍以每 epoch {slope:.3g} 的速度改善（t {t_text}）。"
               "训练 {epochs} 个 epoch（并相应拉长学习率调度）。"),
    },
    "schedule_ended": {
        "en": ("Lengthen or restart the LR schedule",
               "{monitor} was still improving at the end (t {t_text}), but the LR had fallen to "
               "{lr_end_frac:.1%} of its peak: the schedule ended, not the learning.{stretch_to}"
               "{restart_every}"),
        "zh": ("拉长或重启学习率调度",
               "最后 {monitor} 仍在改善（t {t_text}），但学习率已降到峰值的 {lr_end_frac:.1%}："
               "结束的是学习率调度，而不是学习本身。{stretch_to}{restart_every}"),
    },
    "reduce_regularization": {
        "en": ("Regularize less or train longer",
               "The training metric {train_col} is {train_end:.3g} and still rising: the model "
               "cannot fit the training data yet. {rr_lower}{rr_unknown} and train for {epochs} "
               "epochs."),
        "zh": ("减弱正则化或训练更久",
               "训练指标 {train_col} 只有 {train_end:.3g} 且仍在上升：模型尚未拟合训练数据。"
               "{rr_lower}{rr_unknown}，训练 {epochs} 个 epoch。"),
    },
    "fit_schedule_to_run": {
        "en": ("Make the schedule end where training ends",
               "The {family} schedule was fitted to {length:.4g} epochs but the run ended at epoch "
               "{end:g}. Set its length to the epochs you actually train."),
        "zh": ("让学习率调度与训练长度一致",
               "{family} 调度拟合长度为 {length:.4g} 个 epoch，但训练在 epoch {end:g} 结束。"
               "把调度长度设为实际训练的 epoch 数。"),
    },
    "select_by_accuracy": {
        "en": ("Select by the accuracy, smooth the labels",
               "Validation loss bottomed out at epoch {loss_epoch:g} while {monitor} improved "
               "until {acc_epoch:g}. Monitor {monitor} for early stopping and checkpoints; label "
               "smoothing 0.1 curbs the over-confidence that makes the loss rise."),
        "zh": ("按准确率选模型，使用标签平滑",
               "验证损失在 epoch {loss_epoch:g} 见底，而 {monitor} 提升到 epoch {acc_epoch:g}。"
               "早停和保存检查点应监控 {monitor}；0.1 的标签平滑能抑制导致损失上升的过度自信。"),
    },
    "smooth_selection": {
        "en": ("Decide on a smoothed metric",
               "Epoch-to-epoch noise is {sigma:.3g}: single-epoch peaks are luck. Early-stop and "
               "select on the {k}-epoch moving average, and repeat the run with 3 seeds before "
               "ranking configurations."),
        "zh": ("基于平滑后的指标做决策",
               "epoch 间噪声为 {sigma:.3g}：单个 epoch 的峰值是运气。早停和模型选择应基于 {k} 个 epoch 的移动平均，"
               "并在比较配置前用 3 个随机种子重复实验。"),
    },
    "stop_at_plateau": {
        "en": ("Stop when it levels off",
               "Nothing moved beyond noise over epochs {start:g}-{end:g}, although the LR had "
               "already been lowered there ({lr_from:.3g} -> {lr_to:.3g}): a still lower LR is not "
               "what is missing. Early stopping ends the run once it levels off; to get further, "
               "change the model, the data or the regularization."),
        "zh": ("进入平台期即停止",
               "epoch {start:g}-{end:g} 期间没有超出噪声的变化，而学习率在此期间已经降低（{lr_from:.3g} -> "
               "{lr_to:.3g}）：缺的不是更低的学习率。早停会在曲线走平时结束训练；要更进一步，应改变模型、"
               "数据或正则化。"),
    },
    "plateau_schedule": {
        "en": ("Drop the LR on the plateau",
               "Nothing moved beyond noise over epochs {start:g}-{end:g}. ReduceLROnPlateau "
               "(factor 0.5) gives the run a lower LR to settle further, and early stopping ends "
               "it when that no longer helps."),
        "zh": ("在平台期降低学习率",
               "epoch {start:g}-{end:g} 期间没有超出噪声的变化。ReduceLROnPlateau（factor 0.5）"
               "让模型在更低学习率下继续收敛，早停在无效时结束训练。"),
    },
}

# Optional clauses: inserted where the template has {name} and the evidence has a value for it.
FRAGMENTS: dict[str, dict[str, str]] = {
    # fix_no_learning
    "fx_at_lr": {"en": " at LR {fx_at_lr}", "zh": "在学习率 {fx_at_lr} 下"},
    "fx_new_lr": {"en": " Train again at the LR in this patch, or at the one `fitdoctor lr-find "
                        "CONFIG` suggests (it costs a few epochs).",
                  "zh": "用此补丁中的学习率重新训练，或用 `fitdoctor lr-find CONFIG` 给出的学习率（只需几个 "
                        "epoch 的计算）。"},
    "fx_no_lr": {"en": " No LR is known to correct: `fitdoctor lr-find CONFIG` finds one (it costs a "
                       "few epochs); meanwhile this patch adds a short warmup and gradient clipping.",
                 "zh": "不知道要修改的学习率：`fitdoctor lr-find CONFIG` 可以找出一个（只需几个 epoch 的计算）；"
                       "在此之前，此补丁加入短暂预热和梯度裁剪。"},
    # reduce_regularization: the dropout the log gives, lowered; or, when it gives none, at most
    # the patch's value (without the current value "lower" may be a rise)
    "rr_lower": {"en": "Lower the dropout to {dropout:g}", "zh": "把 dropout 降到 {dropout:g}"},
    "rr_unknown": {"en": "Set the dropout to {dropout:g} or less (the log does not say what it is "
                         "now)",
                   "zh": "把 dropout 设为 {dropout:g} 或更低（记录中没有当前值）"},
    # warm_restarts
    "wr_low_lr": {"en": ", and tests whether the low LR late in the run matters",
                  "zh": "，也能检验后期低学习率是否是原因"},
    # lr_epoch_confounded: the way the LR went as the epochs went by (the sign of r)
    "lr_lower": {"en": "lower", "zh": "降低"},
    "lr_higher": {"en": "higher", "zh": "升高"},
    # no_learning
    "nl_loss": {"en": " the training loss stayed at {loss_end:.3g} (its early level {loss_start:.3g})",
                "zh": "训练损失停在 {loss_end:.3g}（早期水平 {loss_start:.3g}）"},
    "nl_metric": {"en": " and {metric} stayed at {level:.3g}, where it began",
                  "zh": "，{metric} 停在起始水平 {level:.3g}"},
    "nl_collapse": {"en": " and {metric} fell from {early_level:.3g} to {level:.3g} (a collapse)",
                    "zh": "，{metric} 从 {early_level:.3g} 跌到 {level:.3g}（崩溃）"},
    "nl_constant": {"en": " The validation metric repeats one value: the model predicts one class.",
                    "zh": "验证指标反复是同一个值：模型只预测一个类别。"},
    "nl_lr_high": {"en": " The LR {lr:.2g} is far above the usual range of its optimizer: the likely cause.",
                   "zh": "学习率 {lr:.2g} 远高于该优化器的常用范围：这很可能是原因。"},
    "nl_lr_low": {"en": " The LR {lr:.2g} is far below the usual range: the weights barely move.",
                  "zh": "学习率 {lr:.2g} 远低于常用范围：权重几乎不动。"},
    "decline": {"en": "; the smoothed validation curve ended {decline:.3g} worse than its best "
                      "level",
                "zh": "；平滑后的验证曲线最终比其最佳水平差 {decline:.3g}"},
    "sampling": {"en": " With {val_size} validation examples the sampling error alone is "
                       "{sampling:.3g}.",
                 "zh": "验证集有 {val_size} 个样本，仅抽样误差就有 {sampling:.3g}。"},
    "collapse": {"en": " while the validation metric fell too (a collapse)",
                 "zh": "，同时验证指标也下降（崩溃）"},
    # overfitting: only when there is a same-metric training curve to make a gap with
    "gap_growth": {"en": " and the smoothed train-val gap grew from {gap_start:.3g} to {gap_end:.3g}",
                   "zh": "，平滑后的训练-验证差距从 {gap_start:.3g} 增大到 {gap_end:.3g}"},
    # overfitting: where validation stopped is a tie of the best epoch (fitting._stopped)
    "best_tied": {"en": " (the best {monitor}, {best_value:.4g} at epoch {best_epoch:g}, is "
                        "within noise of epoch {onset:g})",
                  "zh": "（epoch {best_epoch:g} 的最佳 {monitor} {best_value:.4g} 与 epoch "
                        "{onset:g} 在噪声范围内无差别）"},
    # regularize, when underfitting is found too
    "underfit_end": {"en": " Training ({underfit_col}) is, though, only {underfit_end:.3g} and "
                           "still rising: the model is both short of fitting the training set "
                           "and no longer generalising better, so stopping at the onset comes "
                           "first and regularization second.",
                     "zh": "不过训练指标 {underfit_col} 只有 {underfit_end:.3g} 且仍在上升：模型既"
                           "没有拟合好训练集，也不再带来更好的泛化，所以先在过拟合起点停止，正则化其次。"},
    # schedule_ended: a cosine is stretched, any other schedule restarted
    "stretch_to": {"en": " Stretch the cosine over {stretch_to:g} epochs (T_max and epochs) "
                         "with a floor eta_min of {eta_min:.3g}, 1% of the peak, so that the LR "
                         "still teaches where the run was improving.",
                   "zh": "把余弦调度拉长到 {stretch_to:g} 个 epoch（T_max 与 epochs），并设下限 "
                         "eta_min = {eta_min:.3g}（峰值的 1%），让学习率在模型仍在提升时依然有效。"},
    "restart_every": {"en": " Restart it: cosine warm restarts every {restart_every:g} epochs "
                            "over {epochs:g} epochs, down to eta_min {eta_min:.3g} (1% of the "
                            "peak), lift the LR back where the run was still improving.",
                      "zh": "重启调度：每 {restart_every:g} 个 epoch 热重启一次余弦（共 {epochs:g} "
                            "个 epoch，下限 eta_min = {eta_min:.3g}，峰值的 1%），在模型仍在提升时"
                            "把学习率拉回。"},
}

# Test statistics as read: beyond 100 a z or t says no more than "far beyond noise", and a
# bigger number comes from a noise estimate near 0 (a noise-free or quantised curve), so it
# reads "> 100" ("t > 100", "t = 18.6"). Each entry: the value a template shows -> the
# evidence field it comes from and how it is written.
STAT_CAP = 100.0


def _bounded(x: Any) -> str:
    return f"> {STAT_CAP:g}" if x > STAT_CAP else f"{x:.1f}"


DERIVED: dict[str, tuple[str, Any]] = {
    "max_z_text": ("max_z", _bounded),
    "t_text": ("t", lambda t: _bounded(t) if t > STAT_CAP else f"= {t:.1f}"),
    "n_tied_are": ("n_tied", lambda n: f"{n} epoch is" if n == 1 else f"{n} epochs are"),
}


def _fill(template: str, evidence: dict[str, Any], lang: str) -> str:
    """``template`` with the evidence, its optional clauses (FRAGMENTS: in where the evidence
    has a value for the clause's name, out otherwise) and its bounded statistics."""
    base = dict(evidence)
    for name, (source, write) in DERIVED.items():
        if evidence.get(source) is not None:
            base[name] = write(evidence[source])
    values = dict(base)
    for name, texts in FRAGMENTS.items():
        if "{" + name + "}" in template:
            values[name] = texts[lang].format(**base) if evidence.get(name) is not None else ""
    return template.format(**values)

# compare --group: configurations, their estimate, and what it would take to tell them apart
MESSAGES.update({
    "config.estimate": {
        "en": "Configurations: the mean of the runs' smoothed bests. Interval: random effects, "
              "mean +- t(n-1) sqrt((tau2 + w)/n), where tau2 is the between-seed variance by the "
              "method of moments (DerSimonian-Laird with the equal weights of a plain mean: "
              "tau2 = max(0, s2 - w), s2 the seeds' sample variance) and w the mean of the runs' "
              "own squared standard errors (epoch-to-epoch noise, plus the validation sampling "
              "error p(1-p)/N where N is known); where N is known, p(1-p)/N (1 - 1/n) more, "
              "since seeds scored on one validation set share its sampling error, which more "
              "seeds do not average away. Pairs: Welch-type t-tests on the configuration "
              "means with these variances (Satterthwaite degrees of freedom), or, where every run "
              "has per-example predictions, paired over the examples and pooled over the seeds; "
              "p Holm-corrected across configuration pairs.",
        "zh": "配置：各次运行平滑最佳值的均值。区间：随机效应估计，均值 +- t(n-1) sqrt((tau2 + w)/n)，"
              "其中 tau2 为种子间方差，用矩估计（等权重的 DerSimonian-Laird，对应简单平均："
              "tau2 = max(0, s2 - w)，s2 为各种子的样本方差），w 为各次运行自身标准误平方的均值"
              "（逐 epoch 噪声，已知 N 时再加验证集抽样误差 p(1-p)/N）；已知 N 时再加 p(1-p)/N (1 - 1/n)，"
              "因为在同一验证集上评估的各种子共享其抽样误差，增加种子不能把它平均掉。两两比较：以这些方差对配置"
              "均值做 Welch 型 t 检验（Satterthwaite 自由度）；若每次运行都有逐样本预测，则按样本"
              "配对、跨种子合并；p 值在配置对之间做 Holm 校正。",
    },
    "config.one_run": {
        "en": "{names}: one run, so the interval is that run's own; the between-seed variance "
              "is not measured there.",
        "zh": "{names}：只有一次运行，区间即该运行自身的区间；其种子间方差无从测量。",
    },
    "config.one_each": {
        "en": "One run against one run: the between-seed variance is unknown and taken as 0 "
              "(a z-test on the runs' own errors); other seeds may well undo such a difference.",
        "zh": "一次运行对一次运行：种子间方差未知，按 0 处理（用各运行自身误差做 z 检验）；"
              "换几个种子，这样的差异很可能消失。",
    },
    "config.no_interval": {
        "en": "{names}: too short for an interval; its own error is counted as 0.",
        "zh": "{names}：太短，没有区间；其自身误差按 0 计。",
    },
    "config.paired_delta": {
        "en": "Pairs tested on per-example predictions compare the runs' accuracies at their best "
              "epochs (the checkpoints' own scores on the shared validation examples), not the "
              "smoothed bests of the table.",
        "zh": "用逐样本预测检验的配置对，比较的是各运行在最佳 epoch 的准确率（检查点在共同验证样本上的"
              "得分），而不是表中的平滑最佳值。",
    },
    "config.against_ranking": {
        "en": "{names}: the paired test on the best epochs' predictions finds the lower-ranked "
              "configuration better, against the ranking by smoothed bests; neither is shown as "
              "worse.",
        "zh": "{names}：基于最佳 epoch 逐样本预测的配对检验认为排名较低的配置更好，与按平滑最佳值的排名相反；"
              "两者都不标为更差。",
    },
    "config.holm_only": {
        "en": "{names}: significant at 0.05 on its own but not after the Holm correction over "
              "{m} pairs; its budget is for 0.05 on its own, so it may already be met.",
        "zh": "{names}：单独看在 0.05 水平显著，但经 {m} 对的 Holm 校正后不显著；其预算按单独 0.05 "
              "计算，可能已经满足。",
    },
    "config.budget": {
        "en": "Budget: the observed difference taken as the true one; the power (80 %) of this "
              "same test, two-sided at 0.05 for that pair alone (before Holm), from the variance "
              "components the data gave: between seeds, the runs' epoch-to-epoch noise and the "
              "sampling error p(1-p)/N. The validation size is given for the epoch noise held "
              "fixed and for it shrinking with N like the sampling error (on fitdoctor's truth "
              "corpus it shrank part of the way).",
        "zh": "所需预算：把观测到的差异当作真实差异，按同一检验在双侧 0.05 水平下（仅此一对，Holm "
              "校正前）达到 80% 功效计算；方差成分取自数据：种子间方差、运行的逐 epoch 噪声和抽样误差 "
              "p(1-p)/N。验证集大小分两种情形给出：逐 epoch 噪声不变，或像抽样误差一样随 N 缩小"
              "（在 fitdoctor 的真值语料上它缩小了一部分）。",
    },
    "budget.line": {
        "en": "{a} vs {b} ({delta:+.4f}): {seeds_text}; {val_text}.",
        "zh": "{a} 对 {b}（{delta:+.4f}）：{seeds_text}；{val_text}。",
    },
    "budget.seeds.ok": {
        "en": "{seeds} seeds per configuration at N={n0:,}",
        "zh": "每个配置 {seeds} 个种子（验证集 N={n0:,}）",
    },
    "budget.seeds.ok_no_n": {
        "en": "{seeds} seeds per configuration at this validation size",
        "zh": "每个配置 {seeds} 个种子（当前验证集大小）",
    },
    "budget.seeds.beyond": {
        "en": "more than {max_seeds} seeds per configuration",
        "zh": "每个配置需要超过 {max_seeds} 个种子",
    },
    "budget.seeds.paired": {
        "en": "seeds: not estimated for a test paired on predictions (its per-example differences, "
              "averaged over today's seeds, carry seed noise that more seeds would shrink: the "
              "count would be far too high)",
        "zh": "种子数：对基于预测的配对检验不作估计（逐样本差异按现有种子平均，含有种子噪声，更多种子会使其减小："
              "估出的种子数会远远偏高）",
    },
    "budget.seeds.unknown": {
        "en": "seeds: unknown (one run per configuration: no between-seed variance measured; the "
              "validation size assumes there is none)",
        "zh": "种子数：未知（每个配置只有一次运行，无法测量种子间方差；下面的验证集大小假设它为 0）",
    },
    "budget.val.ok": {
        "en": "or N={val_size_low:,}-{val_size:,} validation examples at {seeds_now} (the lower "
              "figure if the runs' epoch-to-epoch noise shrinks with N as the sampling error does, "
              "the higher if it does not)",
        "zh": "或在 {seeds_now}下使用 N={val_size_low:,}-{val_size:,} 个验证样本（若运行的逐 epoch "
              "噪声像抽样误差一样随 N 缩小取较小值，否则取较大值）",
    },
    "budget.val.ok_same": {
        "en": "or N={val_size:,} validation examples at {seeds_now}",
        "zh": "或在 {seeds_now}下使用 N={val_size:,} 个验证样本",
    },
    "budget.val.epoch": {
        "en": "or N={val_size_low:,} validation examples at {seeds_now} if the runs' "
              "epoch-to-epoch noise shrinks with N as the sampling error does; not reachable by "
              "more validation data alone if it does not",
        "zh": "若运行的逐 epoch 噪声像抽样误差一样随 N 缩小，则在 {seeds_now}下需要 "
              "N={val_size_low:,} 个验证样本；若不缩小，仅靠更多验证数据无法达到",
    },
    "budget.val.between": {
        "en": "not reachable by more validation data alone at {seeds_now}: the between-seed "
              "variance alone prevents it",
        "zh": "在 {seeds_now}下，仅靠更多验证数据无法达到：仅种子间方差就已阻止",
    },
    "budget.val.no_sampling": {
        "en": "validation size: not computed ({monitor} is not a proportion, so its sampling "
              "error is not known)",
        "zh": "验证集大小：无法计算（{monitor} 不是比例，其抽样误差未知）",
    },
    "budget.val.unknown": {
        "en": "validation size: unknown (give --val-size N)",
        "zh": "验证集大小：未知（请用 --val-size N 给出）",
    },
})

VERDICTS: dict[str, dict[str, str]] = {
    "non_finite": {"en": "broke down (non-finite loss)", "zh": "训练崩溃（损失出现非有限值）"},
    "divergence": {"en": "diverged", "zh": "发散"},
    "overfitting": {"en": "overfitting", "zh": "过拟合"},
    "no_learning": {"en": "learned nothing", "zh": "没有学到东西"},
    "underfitting": {"en": "underfitting", "zh": "欠拟合"},
    "still_improving": {"en": "still improving: stopped too early", "zh": "仍在提升：停得太早"},
    "still_improving.schedule_ended": {"en": "still improving as the LR schedule ran out",
                                       "zh": "学习率调度走完时仍在提升"},
    "plateau": {"en": "converged (plateau)", "zh": "已收敛（平台期）"},
    "healthy": {"en": "no problem found beyond noise", "zh": "未发现超出噪声的问题"},
    "too_short": {"en": "too short to judge", "zh": "太短，无法判断"},
}

LABELS: dict[str, dict[str, str]] = {
    "verdict": {"en": "Verdict", "zh": "结论"},
    "monitor": {"en": "Monitored metric", "zh": "监控指标"},
    "best": {"en": "Best", "zh": "最佳"},
    "final": {"en": "Final", "zh": "最终"},
    "phases": {"en": "Phases", "zh": "阶段"},
    "lr": {"en": "LR", "zh": "学习率"},
    "findings": {"en": "Findings", "zh": "发现"},
    "recommendations": {"en": "Recommendations", "zh": "建议"},
    "phase": {"en": "Phase", "zh": "阶段"},
    "epochs": {"en": "Epochs", "zh": "Epoch 范围"},
    "epoch_count": {"en": "Epochs", "zh": "Epoch 数"},
    "mean_lr": {"en": "Mean LR", "zh": "平均学习率"},
    "train": {"en": "Train", "zh": "训练"},
    "val": {"en": "Val", "zh": "验证"},
    "gap": {"en": "Gap", "zh": "差距"},
    "plot.trend": {"en": "trend", "zh": "趋势"},
    "plot.band": {"en": "noise band (95%)", "zh": "噪声带（95%）"},
    "plot.best": {"en": "best", "zh": "最佳"},
    "plot.onset": {"en": "onset", "zh": "起点"},
    "plot.loss": {"en": "loss", "zh": "损失"},
    "plot.lr": {"en": "LR", "zh": "学习率"},
    "plot.epoch": {"en": "epoch", "zh": "epoch"},
    "plot.step": {"en": "step", "zh": "step"},
    "plot.wall": {"en": "wall clock (s)", "zh": "实际用时（秒）"},
    "plot.true_level": {"en": "true best level (95% CI)", "zh": "真实最佳水平（95% 置信区间）"},
    "plot.axis": {"en": "x axis", "zh": "横轴"},
    "plot.smoothing": {"en": "smoothing", "zh": "平滑"},
    "plot.series": {"en": "show", "zh": "显示"},
    "plot.missing_library": {"en": "plotly.min.js did not load (it is written next to the report "
                                   "folder's pages): the static plot instead.",
                             "zh": "plotly.min.js 未能加载（它与报告页面写在同一文件夹）：改为显示静态图。"},
    "plot.kind.train": {"en": "train", "zh": "训练"},
    "plot.kind.val": {"en": "validation", "zh": "验证"},
    "plot.kind.trend": {"en": "trend", "zh": "趋势"},
    "plot.kind.band": {"en": "noise band", "zh": "噪声带"},
    "plot.kind.best": {"en": "best", "zh": "最佳"},
    "plot.kind.lr": {"en": "LR", "zh": "学习率"},
    "plot.kind.param": {"en": "runs", "zh": "实验"},
    "params_title": {"en": "Parameters against the result (smoothed best, 95% interval of the true level)",
                     "zh": "参数与结果（平滑最佳值，真实水平的 95% 区间）"},
    "overlay_title": {"en": "All runs", "zh": "全部实验"},
    "overlay_left_out": {"en": "Not in this plot (another monitored metric)", "zh": "未画入此图（监控指标不同）"},
    "index_title": {"en": "fitdoctor runs", "zh": "fitdoctor 实验列表"},
    "status": {"en": "Status", "zh": "状态"},
    "report": {"en": "Report", "zh": "报告"},
    "run_reports": {"en": "Each run's report", "zh": "各实验的报告"},
    "no_epochs": {"en": "no epochs yet", "zh": "尚无 epoch"},
    "status.running": {"en": "running", "zh": "运行中"},
    "status.completed": {"en": "completed", "zh": "已完成"},
    "status.stopped": {"en": "stopped", "zh": "已停止"},
    "status.interrupted": {"en": "interrupted", "zh": "已中断"},
    "status.stale": {"en": "stale (its process is gone: resume it)", "zh": "失联（进程已不在：可恢复）"},
    "lr.at_best": {"en": "{lr} @ best", "zh": "最佳处 {lr}"},
    "lr.of_peak": {"en": " ({frac} of peak)", "zh": "（峰值的 {frac}）"},
    "lr.at_onset": {"en": "{lr} @ onset", "zh": "过拟合起点处 {lr}"},
    "lr.share": {"en": " ({frac})", "zh": "（{frac}）"},
    "lr.separator": {"en": "; ", "zh": "；"},
    "severity": {"en": "Severity", "zh": "严重程度"},
    "code": {"en": "Code", "zh": "代码"},
    "message": {"en": "Message", "zh": "说明"},
    "patch": {"en": "Config patch", "zh": "配置补丁"},
    "why": {"en": "Why", "zh": "依据"},
    "notes": {"en": "Reader notes", "zh": "读取说明"},
    "reason.val_accuracy_like": {"en": "the validation accuracy-like metric",
                                  "zh": "验证集上的准确率类指标"},
    "reason.val_loss": {"en": "no accuracy-like validation metric: validation loss",
                        "zh": "没有准确率类验证指标：使用验证损失"},
    "reason.test_accuracy_like": {"en": "no validation metric: the log's evaluation (test) metric",
                                  "zh": "没有验证指标：使用日志中的评估（test）指标"},
    "reason.test_loss": {"en": "no validation metric: the test loss", "zh": "没有验证指标：使用 test 损失"},
    "reason.train_loss": {"en": "no validation or test metric: the training loss",
                          "zh": "没有验证或测试指标：使用训练损失"},
    "reason.first_metric": {"en": "the first metric column", "zh": "第一个指标列"},
    "reason.chosen": {"en": "chosen with --metric", "zh": "由 --metric 指定"},
    "reason.stored": {"en": "the run's monitored metric", "zh": "该次训练监控的指标"},
    "run": {"en": "Run", "zh": "实验"},
    "runs": {"en": "Runs (ranked by smoothed best)", "zh": "实验（按平滑后的最佳值排序）"},
    "pairs": {"en": "Pairs", "zh": "两两比较"},
    "config": {"en": "Config", "zh": "配置"},
    "smoothed": {"en": "Smoothed best", "zh": "平滑最佳"},
    "last_k": {"en": "Mean of last k", "zh": "最后 k 个 epoch 均值"},
    "train_at_best": {"en": "Train at best", "zh": "最佳处训练值"},
    "onset": {"en": "Onset", "zh": "过拟合起点"},
    "significant": {"en": "Significant", "zh": "显著"},
    "method": {"en": "Method", "zh": "方法"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
    "best_group": {"en": "Statistically indistinguishable from the best",
                   "zh": "与最佳在统计上无法区分"},
    "expected_max": {"en": "Expected best vs number of trials (the runs taken as trials of one search)",
                     "zh": "期望最佳值与试验次数（把这些实验当作一次搜索的试验）"},
    "comparison_title": {"en": "fitdoctor comparison", "zh": "fitdoctor 实验比较"},
    "configs": {"en": "Configurations (ranked by mean smoothed best)", "zh": "配置（按平滑最佳值的均值排序）"},
    "configuration": {"en": "Configuration", "zh": "配置"},
    "seeds_n": {"en": "Seeds (n)", "zh": "种子数 (n)"},
    "mean_smoothed": {"en": "Mean smoothed best", "zh": "平滑最佳均值"},
    "interval95": {"en": "95% interval", "zh": "95% 区间"},
    "seeds_sd": {"en": "Seeds' SD", "zh": "种子样本标准差"},
    "between_sd": {"en": "Between-seed SD", "zh": "种子间标准差"},
    "best_raw": {"en": "Best raw peak", "zh": "最高原始峰值"},
    "within_se": {"en": "Within-run SE", "zh": "运行内标准误"},
    "interval_how": {"en": "Interval", "zh": "区间来源"},
    "members": {"en": "Runs", "zh": "运行"},
    "budget": {"en": "What it would take (80% power at 0.05)", "zh": "所需预算（0.05 水平下 80% 功效）"},
    "interval.random_effects": {"en": "random effects, t(n-1)", "zh": "随机效应，t(n-1)"},
    "interval.one_run": {"en": "one run: its own", "zh": "单次运行：自身区间"},
    "test.welch_re": {"en": "Welch-type t: seeds + runs' own error", "zh": "Welch 型 t 检验：种子间 + 运行自身误差"},
    "test.one_run_borrowed": {"en": "t: one run as another seed of the other", "zh": "t 检验：把单次运行当作另一配置的又一个种子"},
    "test.one_run_each": {"en": "z-test: runs' own error, between-seed variance unknown",
                          "zh": "z 检验：运行自身误差，种子间方差未知"},
    "test.paired_pooled": {"en": "paired predictions, pooled over seeds", "zh": "逐样本配对，跨种子合并"},
    "test.mcnemar": {"en": "paired predictions: McNemar", "zh": "逐样本配对：McNemar 检验"},
    "test.untestable": {"en": "too short to test", "zh": "太短，无法检验"},
    "report_title": {"en": "fitdoctor diagnosis", "zh": "fitdoctor 诊断报告"},
    "source": {"en": "Source", "zh": "来源"},
    "curves": {"en": "Curves", "zh": "曲线"},
    "none": {"en": "none", "zh": "无"},
    "underfit": {"en": "underfit", "zh": "欠拟合"},
    "fit": {"en": "fit", "zh": "拟合良好"},
    "overfit": {"en": "overfit", "zh": "过拟合"},
    "plateau": {"en": "plateau", "zh": "平台期"},
    "diverged": {"en": "diverged", "zh": "发散"},
    "no_learning": {"en": "no learning", "zh": "未学习"},
    "info": {"en": "info", "zh": "提示"},
    "warning": {"en": "warning", "zh": "警告"},
    "critical": {"en": "critical", "zh": "严重"},
}


def message(code: str, evidence: dict[str, Any], lang: str = "en") -> str:
    """Render a finding's message from its code and evidence (a schedule's description, made in
    English, rendered phrase by phrase)."""
    if lang != "en" and isinstance(evidence.get("description"), str):
        evidence = {**evidence, "description": phrase(evidence["description"], lang)}
    return _fill(MESSAGES[code][lang], evidence, lang)


def recommendation(code: str, evidence: dict[str, Any], lang: str = "en") -> tuple[str, str]:
    title, rationale = RECOMMENDATIONS[code][lang]
    return title, _fill(rationale, evidence, lang)


def label(key: str, lang: str = "en") -> str:
    entry = LABELS.get(key)
    return entry[lang] if entry else key


for _code, _texts in VERDICTS.items():
    LABELS[f"verdict.{_code}"] = _texts


def verdict(code: str, lang: str = "en") -> str:
    return VERDICTS[code][lang]


# Phrases written in English where they are made (the schedule's description, the readers'
# notes), rendered in another language at the last moment: (pattern, template) pairs applied in
# order; a phrase no pattern knows stays in English.
_N = r"([-+0-9.e]+)"
PHRASES: dict[str, list[tuple[str, str]]] = {"zh": [
    (rf"constant LR {_N}", r"恒定学习率 \1"),
    (rf"one-cycle: rise for {_N} epochs? to {_N}", r"one-cycle：\1 个 epoch 升到 \2"),
    (rf"linear warmup for {_N} epochs? to {_N}", r"线性预热 \1 个 epoch 到 \2"),
    (r", then ", "，然后"),
    (rf"cosine annealing \(T_max~{_N}, eta_min~{_N} of peak\)",
     r"余弦退火（T_max≈\1，eta_min≈峰值的 \2）"),
    (rf"linear decay reaching 0 at epoch {_N}", r"线性衰减，在 epoch \1 降到 0"),
    (rf"exponential decay x{_N} per epoch", r"指数衰减，每个 epoch ×\1"),
    (rf"polynomial decay \(power {_N}\) reaching 0 at epoch {_N}",
     r"多项式衰减（幂 \1），在 epoch \2 降到 0"),
    (rf"step decay every {_N} epochs by x{_N}", r"每 \1 个 epoch 阶梯衰减 ×\2"),
    (rf"plateau-style drops \(ReduceLROnPlateau, factor {_N}\) at epochs ([0-9., ]+)",
     r"平台式下降（ReduceLROnPlateau，因子 \1），在 epoch \2"),
    (rf"drops at epochs? ([0-9., ]+) \(x{_N}\)", r"在 epoch \1 下降（×\2）"),
    (r"warm restarts at epochs? ([0-9., ]+) \(", r"在 epoch \1 热重启（"),
    (r"no known family fits the logged LR", "没有已知的调度族能拟合记录的学习率"),
    (r"(\S+) was in percent; rescaled to 0-1", r"\1 原为百分数，已换算到 0-1"),
    (r"no epoch column: the step is used as the x axis", "没有 epoch 列：以 step 作横轴"),
    (r"no epoch column: rows are numbered from 0", "没有 epoch 列：行从 0 开始编号"),
    (r"(\d+) row\(s\) without a readable epoch number dropped", r"丢弃了 \1 行无法读取 epoch 编号的记录"),
    (r"(\d+) repeated (\S+)\(s\) with identical values dropped", r"丢弃了 \1 个取值完全相同的重复 \2"),
    (r"epoch counter restarts at line (\d+) \(epoch (\S+) after (\S+)\)",
     r"epoch 计数器在第 \1 行重新开始（\3 之后是 \2）"),
    (r"epoch counter restarts (\d+) time\(s\): split into (\d+) runs",
     r"epoch 计数器重新开始 \1 次：拆分为 \2 个 run"),
    (r"per-step values averaged per epoch: ", "每步的取值按 epoch 取平均："),
    (r"Lightning CSVLogger rows merged into one row per epoch", "Lightning CSVLogger 的行已按 epoch 合并为一行"),
    (r"(\w+)_loss = sum of ", r"\1_loss = 以下各项之和："),
    (r"lr is Ultralytics' lr/pg1, a weights group \(the bias group, pg0 since YOLOv5 v6 and pg2 "
     r"before, has its own warmup\)",
     "lr 取 Ultralytics 的 lr/pg1，一个权重参数组（偏置参数组在 YOLOv5 v6 起为 pg0、之前为 pg2，有独立预热）"),
    (r"mmcv train iterations averaged per epoch", "mmcv 的训练迭代按 epoch 取平均"),
    (r"YOLOv5 results.txt: columns as its utils/plots.py plot_results reads them",
     "YOLOv5 results.txt：各列按其 utils/plots.py 中 plot_results 的读取顺序"),
    (r"the last line, cut short \(no newline at its end\), dropped", "最后一行被截断（末尾没有换行），已舍弃"),
    (r"YOLOv5 scalars: the TensorBoard step is the epoch", "YOLOv5 的标量：TensorBoard 的 step 即 epoch"),
    (r"detectron2 metrics.json: one row per evaluation, the iteration as the x axis; training "
     r"losses averaged over the iterations since the previous evaluation; AP rescaled from "
     r"percent to 0-1",
     "detectron2 metrics.json：每次评估一行，以迭代数作横轴；训练损失按上次评估以来的迭代取平均；"
     "AP 已从百分数换算到 0-1"),
    (r"detectron2 metrics.json without evaluation results: one row per logged iteration "
     r"\(training loss only\)",
     "detectron2 metrics.json 没有评估结果：每个记录的迭代一行（只有训练损失）"),
    (r"DeiT/DETR-style 'test_\*' keys are evaluations on the validation set: read as val_\*",
     "DeiT/DETR 风格的 'test_*' 键是在验证集上的评估：读作 val_*"),
    (r"line (\d+): epoch (\S+) repeated; kept one copy", r"第 \1 行：epoch \2 重复，保留一份"),
    (r"evaluation-set size (\d+) read from '\(correct/total\)' counts",
     r"评估集大小 \1 读自 '(正确数/总数)' 计数"),
    (r"no 'epoch' scalar: TensorBoard steps used as the x axis", "没有 'epoch' 标量：以 TensorBoard 的 step 作横轴"),
    (r"TensorBoard scalars logged several times per epoch averaged per epoch",
     "每个 epoch 记录多次的 TensorBoard 标量已按 epoch 取平均"),
    (r"one row per evaluation; training loss averaged over the logging steps since the previous "
     r"evaluation", "每次评估一行；训练损失取自上次评估以来各日志步的平均"),
    (r"(\d+) value\(s\) logged again at the same MLflow step: the last kept",
     r"\1 个取值在同一 MLflow step 上重复记录：保留最后一个"),
    (r"no evaluation entries: one row per logging step \(training loss only\)",
     "没有评估记录：每个日志步一行（只有训练损失）"),
]}


def phrase(text: str, lang: str = "en") -> str:
    """``text`` (a schedule description, a reader's note: English where it was made) in
    ``lang``, phrase by phrase; what no pattern knows stays as it is."""
    for pattern, template in PHRASES.get(lang, ()):
        text = re.sub(pattern, template, text)
    return text
