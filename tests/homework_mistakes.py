"""Realistic wrong solutions for the autograder tests: each is the teacher's copy with one mistake.

A mistake lists ``(text in the reference, what the learner wrote instead)`` pairs; every reference
text must occur exactly once in ``homework/solutions/<assignment>.py``, so editing a reference in a
way that would silently drop a mistake fails loudly.  ``write_wrong_solution`` writes the whole file a
learner would hand in.
"""
import re
from dataclasses import dataclass

from paddle_course.grading.registry import load_assignment, reference_solution


@dataclass(frozen=True)
class Mistake:
    summary: str         # what is wrong, for the file's docstring
    check: str           # the check that must fail
    words: str           # words the check's message must contain
    replacements: tuple  # ((reference text, wrong text), ...)


MISTAKES = {
    "hw01_missing_factor_two": Mistake(
        'missing factor two', 'linear_gradients', 'factor 2 is missing',
        (
            ('    dL_de = 2.0 * e  # d(e^2)/de\n',
             '    dL_de = e  # WRONG: forgets the 2 of d(e^2)/de\n'),
        )),
    "hw01_shared_not_added": Mistake(
        'shared not added', 'shared_gradients_add', 'ADD the gradients of all paths',
        (
            ('    dL_dq = s + dL_ds * 1.0  # q -> L directly, and q -> s -> L\n',
             '    dL_dq = s  # WRONG: forgets the path q -> s -> L\n'),
        )),
    "hw01_sigmoid_nan": Mistake(
        'sigmoid nan', 'sigmoid_saturated', 'NaN',
        (
            ('    dL_da = dL_dp * p * (1.0 - p)  # saturated: p(1-p) -> 0, the gradient vanishes\n',
             '    dp_da = np.exp(-a) / (1.0 + np.exp(-a)) ** 2  # WRONG at saturation: inf/inf = NaN for a = -800\n    dL_da = dL_dp * dp_da\n'),
        )),
    "hw01_sign_error": Mistake(
        'sign error', 'linear_gradients', 'sign is flipped',
        (
            ('    dL_dy = dL_de * -1.0  # de/dy = -1\n',
             '    dL_dy = dL_de  # WRONG: de/dy is -1\n'),
        )),
    "hw02_bias_times_x": Mistake(
        'bias gradient computed from error * x', 'gradient_b_values', 'multiplied by x',
        (
            ('        gradient_b = 2.0 * np.mean(error, axis=0)  # (1,)\n',
             '        gradient_b = np.array([2.0 * np.mean(error * x)])  # WRONG: the bias gradient has no x in it\n'),
        )),
    "hw02_infinite_loop": Mistake(
        'an infinite loop in train', 'train_loss_count', 'did not finish in time',
        (
            ('            for k in range(0, num_samples, batch_size):\n',
             '            k = 0\n            while k < num_samples:  # WRONG: k is never increased, the loop never ends\n'),
        )),
    "hw02_loop_over_samples": Mistake(
        'a Python loop over the samples', 'gradient_is_vectorised', 'for loop',
        (
            ('        error = self.forward(x) - y  # (N, 1)\n        gradient_w = 2.0 * np.mean(error * x, axis=0)[:, np.newaxis]  # (N, n) -> (n,) -> (n, 1)\n',
             '        error = self.forward(x) - y\n        gradient_w = np.zeros_like(self.w)\n        for i in range(len(x)):  # WRONG: a Python loop over the samples\n            gradient_w += 2.0 * error[i, 0] * x[i][:, np.newaxis] / len(x)\n'),
        )),
    "hw02_no_shuffle": Mistake(
        'no shuffling', 'train_matches_reference', 'never shuffled',
        (
            ('            order = rng.permutation(num_samples)\n',
             '            order = np.arange(num_samples)  # WRONG: never shuffles\n'),
        )),
    "hw02_sign_error": Mistake(
        'sign error in the gradient', 'gradient_w_values', 'sign is flipped',
        (
            ('        error = self.forward(x) - y  # (N, 1)\n',
             '        error = y - self.forward(x)  # WRONG: target minus prediction\n'),
        )),
    "hw02_sum_not_mean": Mistake(
        'sums instead of averages (missing 1/N)', 'gradient_w_values', 'missing 1/N',
        (
            ('        gradient_w = 2.0 * np.mean(error * x, axis=0)[:, np.newaxis]  # (N, n) -> (n,) -> (n, 1)\n        gradient_b = 2.0 * np.mean(error, axis=0)  # (1,)\n',
             '        gradient_w = 2.0 * np.sum(error * x, axis=0)[:, np.newaxis]  # WRONG: sum, missing 1/N\n        gradient_b = 2.0 * np.sum(error, axis=0)  # WRONG: sum, missing 1/N\n'),
        )),
    "hw03_missing_mean": Mistake(
        'missing 1/N', 'gradient_output_layer', '1/N is missing',
        (
            ('        dz = 2.0 * (z - y) / x.shape[0]  # (N, 1)\n',
             '        dz = 2.0 * (z - y)  # WRONG: the 1/N of the mean is missing\n'),
        )),
    "hw03_relu_grad_times_a": Mistake(
        'ReLU derivative taken as a', 'gradient_hidden_layer_relu', 'mask 1[a > 0]',
        (
            ('            da = dh * (a > 0)\n',
             "            da = dh * a  # WRONG: ReLU's derivative is the mask a > 0, not a\n"),
        )),
    "hw03_sigmoid_grad_of_a": Mistake(
        'sigmoid derivative a(1-a)', 'gradient_sigmoid', 'h (1 - h)',
        (
            ('            da = dh * h * (1.0 - h)\n',
             "            da = dh * a * (1.0 - a)  # WRONG: sigmoid's derivative is h (1 - h)\n"),
        )),
    "hw03_transposed_weights": Mistake(
        'dW1 transposed', 'gradient_keys_and_shapes', 'transposed',
        (
            ('        return {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}\n',
             '        return {"W1": da.T @ x,  # WRONG: transposed, (h, n) instead of (n, h)\n                "b1": da.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}\n'),
        )),
    "hw04_no_clear_grad": Mistake(
        'gradients never cleared', 'train_matches_numpy', 'clear_grad() is missing',
        (
            ('            opt.clear_grad()\n',
             '            # WRONG: opt.clear_grad() forgotten, the gradients add up\n'),
        )),
    "hw04_no_shuffle": Mistake(
        'no shuffling', 'train_matches_numpy', 'never shuffled',
        (
            ('        order = rng.permutation(num_samples)\n',
             '        order = np.arange(num_samples)  # WRONG: never shuffles\n'),
        )),
    "hw04_sum_loss": Mistake(
        'loss summed over the batch', 'train_matches_numpy', 'sum over the batch',
        (
            ('                loss = paddle.mean(F.square_error_cost(predicts, label=y))   # mean, not sum\n',
             '                loss = paddle.sum(F.square_error_cost(predicts, label=y))  # WRONG: sum instead of mean   # mean, not sum\n'),
            ('            loss = paddle.mean(F.square_error_cost(predicts, label=y))\n',
             '            loss = paddle.sum(F.square_error_cost(predicts, label=y))  # WRONG: sum instead of mean\n'),
        )),
    "hw04_swapped_linear": Mistake(
        'Linear sizes swapped', 'regressor_structure', 'sizes are swapped',
        (
            ('        self.fc = paddle.nn.Linear(in_features=num_inputs, out_features=1)\n',
             '        self.fc = paddle.nn.Linear(in_features=1, out_features=num_inputs)  # WRONG: sizes swapped\n'),
        )),
    "hw05_accuracy_threshold": Mistake(
        'accuracy from the positive logit compared with 0.5 instead of argmax', 'validation_step_loss_and_accuracy', 'use logits.argmax(axis=1)',
        (
            ('        accuracy = (logits.argmax(axis=1) == labels).astype("float32").mean()\n',
             '        # WRONG: logits are not probabilities, and argmax is what decides the class\n        accuracy = ((logits[:, 1] > 0.5).astype("int64") == labels).astype("float32").mean()\n'),
        )),
    "hw05_label_float": Mistake(
        'labels returned as float32, not int64 class ids', 'dataset_items', 'class ids must be int64',
        (
            ('        return chars, bigrams, tags, np.int64(self.labels[index])\n',
             '        return chars, bigrams, tags, np.float32(self.labels[index])  # WRONG: class ids must be int64\n'),
        )),
    "hw05_last_epoch": Mistake(
        'returns the model after the last epoch instead of best_model', 'finetune_returns_the_best_epoch', 'after the last epoch',
        (
            ('    model.set_state_dict(sentiment.load_weights(os.path.join(str(out_dir), "best_model", "model.pdparams")))\n',
             "    # WRONG: best_model/ is never loaded, the model keeps the last epoch's weights\n"),
        )),
    "hw05_no_eval": Mistake(
        'pretrained_model returns the model in training mode (dropout on)', 'pretrained_model_is_the_shipped_module', 'call model.eval()',
        (
            ('    model.eval()  # dropout off\n    return model, vocab, config\n',
             '    return model, vocab, config  # WRONG: model.eval() forgotten, dropout stays on\n'),
        )),
    "hw05_no_shipped_weights": Mistake(
        'the shipped weights are never loaded (fine-tuning starts from random weights)', 'pretrained_model_is_the_shipped_module', 'shipped weights were not loaded',
        (
            ('    model.set_state_dict(sentiment.load_weights(ASSETS / "model.safetensors"))  # tensors only: runs no code\n',
             '    # WRONG: model.set_state_dict(sentiment.load_weights(...)) forgotten, the weights stay random\n'),
        )),
    "hw05_sum_loss": Mistake(
        'cross-entropy summed over the batch instead of averaged', 'training_step_loss_and_accuracy', 'sum over the batch',
        (
            ('        loss = F.cross_entropy(logits, labels)  # takes the logits, softmax is inside; mean over the batch\n',
             '        loss = F.cross_entropy(logits, labels, reduction="sum")  # WRONG: a sum, not the mean over the batch\n'),
        )),
}


def write_wrong_solution(name, folder):
    """Write ``folder/<name>.py``: the reference of ``name``'s assignment with the mistake put in."""
    mistake = MISTAKES[name]
    source = reference_solution(load_assignment(name[:4])[0]).read_text(encoding="utf-8")
    for right, wrong in mistake.replacements:
        assert source.count(right) == 1, f"{name}: {right!r} is no longer exactly once in the reference"
        source = source.replace(right, wrong)
    docstring = re.match(r'\s*""".*?"""', source, re.S)
    source = (f'"""WRONG solution for the autograder tests ({name[:4]}): {mistake.summary}; '
              f'see the lines marked WRONG."""' + source[docstring.end():])
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path
