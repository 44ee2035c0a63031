"""The phantom's anatomy, composed slice by slice: table, body, chest wall, ribs, sternum, spine,
mediastinum, heart, aorta, trachea, oesophagus, liver dome and the two lungs.

Shapes are laid out in fractions of the field of view so that the small test variant and the full
512x512 scan show the same chest. Every edge is anti-aliased: a shape covers a voxel by a fraction
``clip(0.5 - d / w, 0, 1)`` of its approximate signed distance ``d`` (mm) over the voxel width ``w``,
and colours are blended by that fraction (partial-volume effect).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HU_AIR = -1000.0
HU_FAT = -100.0
HU_MUSCLE = 45.0
HU_MEDIASTINUM = -70.0
HU_SOFT = 38.0
HU_BLOOD = 42.0
HU_LIVER = 58.0
HU_LUNG = -860.0
HU_CORTEX = 750.0
HU_MARROW = 230.0
HU_DISC = 85.0
HU_CSF = 12.0
HU_TABLE = 120.0
HU_TABLE_FOAM = -880.0


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things are, in mm relative to the centre of the axial field, and in the slice
    fraction ``t`` (0 = most inferior slice, 1 = most superior)."""

    half: float  # half the in-plane field of view (mm); everything scales with it
    z_extent: float  # mm from the first to the last slice

    # body and chest wall (semi-axes in mm, centred)
    @property
    def body(self) -> tuple[float, float]:
        return 0.86 * self.half, 0.58 * self.half

    @property
    def muscle(self) -> tuple[float, float]:
        a, b = self.body
        return a - 0.06 * self.half, b - 0.05 * self.half

    @property
    def cavity(self) -> tuple[float, float, float]:
        """semi-axes and centre y of the thoracic cavity (inside the ribs)"""
        a, b = self.body
        return a - 0.15 * self.half, b - 0.14 * self.half, -0.01 * self.half

    def lung(self, side: int) -> tuple[float, float, float, float]:
        """cx, cy, ax, ay of one lung's ellipse at full size; side -1 = patient right (low x)."""
        h = self.half
        return side * 0.36 * h, 0.05 * h, 0.36 * h, 0.47 * h

    def hilum(self, side: int) -> tuple[float, float, float]:
        """(t, y, x) of a lung's hilum"""
        h = self.half
        return 0.56, 0.10 * h, side * 0.17 * h

    @property
    def carina(self) -> tuple[float, float, float]:
        return 0.64, 0.10 * self.half, 0.0

    @property
    def trachea(self) -> tuple[float, float, float]:
        """x, y, radius"""
        return 0.0, 0.10 * self.half, min(9.0, 0.055 * self.half)

    @property
    def spine(self) -> tuple[float, float, float]:
        """x, y of the vertebral body centre, its radius"""
        return 0.0, 0.36 * self.half, 0.105 * self.half

    @property
    def heart(self) -> tuple[float, float, float, float, float, float]:
        """t, y, x of its centre; semi-axes in t (fraction), y, x (mm)"""
        h = self.half
        return 0.30, -0.14 * h, 0.10 * h, 0.24, 0.30 * h, 0.36 * h


def _frac(d: np.ndarray, w: float) -> np.ndarray:
    """Coverage fraction from an approximate signed distance ``d`` (mm, negative inside)."""
    out = np.asarray(d, dtype=np.float32) * np.float32(-1.0 / w)
    out += np.float32(0.5)
    return np.clip(out, 0.0, 1.0, out=out)


def ellipse_frac(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float,
                 w: float) -> np.ndarray:
    r = np.sqrt(((x - np.float32(cx)) * np.float32(1 / a)) ** 2
                + ((y - np.float32(cy)) * np.float32(1 / b)) ** 2)
    r -= np.float32(1.0)
    return _frac(r * np.float32(min(a, b)), w)


def _blend(img: np.ndarray, hu: float | np.ndarray, f: np.ndarray) -> None:
    img += (hu - img) * f


class Patch:
    """A coverage map kept only on the bounding box where it is non-zero."""

    __slots__ = ("sl", "f")

    def __init__(self, full: np.ndarray) -> None:
        nz = np.nonzero(full > 0)
        if len(nz[0]) == 0:
            self.sl = (slice(0, 0), slice(0, 0))
        else:
            ys, xs = nz
            self.sl = (slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1))
        self.f = np.ascontiguousarray(full[self.sl], dtype=np.float32)


class SliceComposer:
    """Precomputes the z-independent parts once; ``compose(k)`` renders axial slice ``k``."""

    def __init__(self, shape_zyx: tuple[int, int, int], spacing_zyx: tuple[float, float, float],
                 rng: np.random.Generator) -> None:
        nz, ny, nx = shape_zyx
        sz, sy, sx = spacing_zyx
        self.shape = shape_zyx
        self.sz = sz
        self.w = float(np.sqrt(sy * sx))  # in-plane anti-aliasing width
        half = min(ny * sy, nx * sx) / 2.0
        self.lay = lay = Layout(half=half, z_extent=max(nz - 1, 1) * sz)
        x = ((np.arange(nx) - (nx - 1) / 2.0) * sx).astype(np.float32)
        y = ((np.arange(ny) - (ny - 1) / 2.0) * sy).astype(np.float32)
        self.X, self.Y = np.meshgrid(x, y)  # (ny, nx)
        X, Y, w = self.X, self.Y, self.w
        h = half

        base = np.full((ny, nx), HU_AIR, np.float32)
        # table: a curved carbon shell with foam below the patient's back
        ba, bb = lay.body
        yt = bb + 0.05 * h + 0.08 * X**2 / h
        shell = _frac(np.abs(Y - yt) - 1.5, w) + _frac(np.abs(Y - yt - 0.1 * h) - 1.5, w)
        foam = _frac(np.abs(Y - yt - 0.05 * h) - 0.05 * h + 1.5, w)
        inside_table = _frac(np.abs(X) - 0.85 * h, w)
        _blend(base, HU_TABLE_FOAM, foam * inside_table)
        _blend(base, HU_TABLE, np.minimum(shell, 1) * inside_table)
        _blend(base, HU_FAT, ellipse_frac(X, Y, 0, 0, ba, bb, w))
        ma, mb = lay.muscle
        _blend(base, HU_MUSCLE, ellipse_frac(X, Y, 0, 0.01 * h, ma, mb, w))
        ca, cb, ccy = lay.cavity
        # skin line: a thin brighter rim
        skin = ellipse_frac(X, Y, 0, 0, ba, bb, w) - ellipse_frac(X, Y, 0, 0, ba - 2, bb - 2, w)
        _blend(base, HU_SOFT, np.clip(skin, 0, 1) * 0.7)
        self.base = base

        # everything that changes with z is computed on the cavity's bounding box only
        cav = Patch(ellipse_frac(X, Y, 0, ccy, ca + 0.06 * h, cb + 0.06 * h, w))
        self.cb = cb_sl = cav.sl
        Xc, Yc = X[cb_sl], Y[cb_sl]
        self.Xc, self.Yc = Xc, Yc
        # lungs: unit-scale ellipse radii, the cavity shrunk by the pleura, diaphragm domes
        self.lungs = []
        for side in (-1, 1):
            cx, cy, ax, ay = lay.lung(side)
            r = np.sqrt(((Xc - cx) / ax) ** 2 + ((Yc - cy) / ay) ** 2).astype(np.float32)
            rho = np.minimum(r, 1.0)
            # dome: highest (t≈0.26/0.22) at the lung centre, recesses low at the rim
            top = 0.26 if side < 0 else 0.22
            dome_t = (0.05 + (top - 0.05) * (1.0 - rho**2)).astype(np.float32)
            self.lungs.append((r, float(min(ax, ay)), dome_t))
        # mediastinum keeps the lungs apart in the middle (wider in front, spine behind)
        self.medi = 1.0 - _frac(np.abs(Xc) - (0.07 * h + 0.05 * np.clip(-Yc, 0, None)), w)
        self._levels: dict[int, tuple] = {}
        # liver / upper abdomen below the domes (the right one higher)
        q = np.clip((Xc / ca) ** 2 + ((Yc - ccy) / cb) ** 2, 0, 1)
        self.dome_abd = (0.05 + 0.19 * (1.0 - q) + 0.03 * (Xc < 0)).astype(np.float32)

        # spine: vertebral body (cortex + marrow), canal, lamina and spinous process
        sx0, sy0, sr = lay.spine
        self.p_vb = Patch(ellipse_frac(X, Y, sx0, sy0, sr, sr * 0.9, w))
        self.p_vb_in = Patch(ellipse_frac(X, Y, sx0, sy0, sr - 2.0, sr * 0.9 - 2.0, w))
        cy_canal = sy0 + sr * 0.9 + 0.05 * h
        lam = np.maximum(ellipse_frac(X, Y, 0, cy_canal, 0.09 * h, 0.075 * h, w),
                         _frac(np.maximum(np.abs(X) - 0.02 * h,
                                          np.abs(Y - (cy_canal + 0.1 * h)) - 0.08 * h), w))
        self.p_lamina = Patch(lam)
        self.p_canal = Patch(ellipse_frac(X, Y, 0, cy_canal, 0.045 * h, 0.04 * h, w))
        # aorta (ascending, arch, descending), oesophagus, trachea
        self.p_asc = Patch(ellipse_frac(X, Y, -0.03 * h, -0.11 * h, 0.085 * h, 0.085 * h, w))
        self.p_desc = Patch(ellipse_frac(X, Y, 0.11 * h, 0.24 * h, 0.065 * h, 0.065 * h, w))
        ax0, ay0, ax1, ay1 = -0.03 * h, -0.11 * h, 0.11 * h, 0.24 * h
        dx, dy = ax1 - ax0, ay1 - ay0
        u = np.clip(((X - ax0) * dx + (Y - ay0) * dy) / (dx * dx + dy * dy), 0, 1)
        d = np.sqrt((X - ax0 - u * dx) ** 2 + (Y - ay0 - u * dy) ** 2) - 0.075 * h
        self.p_arch = Patch(_frac(d, w))
        self.p_oes = Patch(ellipse_frac(X, Y, -0.02 * h, 0.22 * h, 0.04 * h, 0.035 * h, w))
        # scapulae: thin curved blades behind the upper ribs
        blade = np.clip(ellipse_frac(X, Y, 0, ccy + 0.02 * h, ca + 0.12 * h, cb + 0.1 * h, w)
                        - ellipse_frac(X, Y, 0, ccy + 0.02 * h, ca + 0.1 * h, cb + 0.08 * h, w),
                        0, 1)
        blade *= _frac(0.22 * h - Y, w) * _frac(0.3 * h - np.abs(X), w)
        self.p_scapula = Patch(blade)
        tx, ty, tr = lay.trachea
        self.p_tr_wall = Patch(ellipse_frac(X, Y, tx, ty, tr + 1.5, tr + 1.5, w))
        self.p_tr_air = Patch(ellipse_frac(X, Y, tx, ty, tr, tr * 0.9, w))
        # gentle lung texture: a sum of separable waves, plus denser dependent (posterior) lung
        self.tex_planes = []
        self.tex_z = []
        for _ in range(4):
            kx, ky, kz = rng.uniform(2 * np.pi / 45, 2 * np.pi / 12, size=3)
            px, py, pz = rng.uniform(0, 2 * np.pi, size=3)
            self.tex_planes.append((np.sin(kx * Xc + px) * np.sin(ky * Yc + py)).astype(np.float32))
            self.tex_z.append((kz, pz))
        self.gradient = (HU_LUNG + 30.0 * np.clip(Yc / (0.5 * h), -1, 1)).astype(np.float32)
        self.rib_phase = rng.uniform(0, 1)

    def cavity_level(self, t: float) -> tuple:
        """Rib cage of slice fraction ``t``: it narrows towards the apex. Cached by 0.5 % steps
        of its width: (cavity fraction, lung limit, rib ring indices, ring fraction, ring y,
        sternum fraction), all on the cavity's box."""
        ramp = float(np.clip((t - 0.35) / 0.65, 0.0, 1.0))
        key = int(round((0.28 * ramp * ramp * (3 - 2 * ramp)) / 0.005))
        if key not in self._levels:
            shrink = key * 0.005
            h, w = self.lay.half, self.w
            ca, cb, ccy = self.lay.cavity
            ca, cb = ca * (1.0 - shrink), cb * (1.0 - 0.4 * shrink)
            Xc, Yc = self.Xc, self.Yc
            f_cav = ellipse_frac(Xc, Yc, 0, ccy, ca, cb, w)
            limit = ellipse_frac(Xc, Yc, 0, ccy, ca - 2.5, cb - 2.5, w) * self.medi
            ring = np.clip(ellipse_frac(Xc, Yc, 0, ccy, ca + 0.05 * h, cb + 0.05 * h, w) - f_cav,
                           0, 1)
            idx = np.nonzero(ring > 0)
            sternum = ellipse_frac(Xc, Yc, 0, ccy - cb - 0.03 * h, 0.09 * h, 0.03 * h, w)
            self._levels[key] = (f_cav, limit, idx, ring[idx], Yc[idx], sternum)
        return self._levels[key]

    def t_of(self, k: int) -> float:
        nz = self.shape[0]
        return k / max(nz - 1, 1)

    def compose(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(HU slice float32, lung fraction float32) of axial slice k."""
        lay = self.lay
        t = self.t_of(k)
        wz = self.sz / lay.z_extent if lay.z_extent > 0 else 1.0  # slice width in t units
        img = self.base.copy()
        lungf = np.zeros_like(img)
        w = self.w
        cimg = img[self.cb]  # views on the cavity's box
        clung = lungf[self.cb]
        f_cav, lung_limit, ring_idx, ring_f, ring_y, f_sternum = self.cavity_level(t)
        _blend(cimg, HU_MEDIASTINUM, f_cav)

        # upper abdomen below the diaphragm
        if t < 0.3:
            _blend(cimg, HU_LIVER, f_cav * _frac((t - self.dome_abd) / wz, 1.0))
        self._lungs(t, wz, cimg, clung, lung_limit)

        def paint(hu: float, p: Patch, scale: float = 1.0) -> None:
            f = p.f if scale == 1.0 else p.f * np.float32(scale)
            _blend(img[p.sl], hu, f)
            lungf[p.sl] *= 1.0 - f

        # heart (ellipsoid), computed on its own box
        ht, hy, hx, htz, hay, hax = lay.heart
        q = 1.0 - ((t - ht) / htz) ** 2
        if q > 0:
            sq = np.sqrt(q)
            f = ellipse_frac(self.Xc, self.Yc, hx, hy, hax * sq, hay * sq, w)
            _blend(cimg, HU_BLOOD, f)
            clung *= 1.0 - f

        def zf(lo: float, hi: float) -> float:
            return float(np.clip((t - lo) / wz + 0.5, 0, 1) * np.clip((hi - t) / wz + 0.5, 0, 1))

        if (g := zf(0.40, 0.74)) > 0:
            paint(HU_BLOOD, self.p_asc, g)
        if (g := zf(0.0, 0.76)) > 0:
            paint(HU_BLOOD, self.p_desc, g)
        if (g := zf(0.72, 0.79)) > 0:
            paint(HU_BLOOD, self.p_arch, g)
        paint(HU_SOFT, self.p_oes)
        if (g := zf(lay.carina[0], 1.01)) > 0:
            paint(HU_SOFT, self.p_tr_wall, g)
            paint(HU_AIR + 30, self.p_tr_air, g)
        # spine with intervertebral discs every ~1/11 of the field
        disc = abs(((t * 11.0 + 0.3) % 1.0) - 0.5) > 0.41
        paint(HU_DISC if disc else HU_CORTEX, self.p_vb)
        if not disc:
            paint(HU_MARROW, self.p_vb_in)
        paint(HU_CORTEX * 0.8, self.p_lamina)
        paint(HU_CSF, self.p_canal)
        if (g := zf(0.6, 0.97)) > 0:
            paint(HU_CORTEX * 0.8, self.p_scapula, g)
        # ribs: bands on the ring, descending towards the front; sternum
        self._ribs_and_sternum(t, cimg, clung, ring_idx, ring_f, ring_y, f_sternum)
        return img, lungf

    def _lungs(self, t: float, wz: float, cimg: np.ndarray, clung: np.ndarray, lung_limit: np.ndarray) -> None:
        """Both lungs into the cavity's box: taper towards the apex (t > 0.72), end at t ≈ 0.97."""
        s = 1.0 if t < 0.72 else float(np.sqrt(max(0.0, (0.97 - t) / 0.25)))
        if not (s > 0.02 and t > 0.04):
            return
        for (r, amin, dome_t) in self.lungs:
            f = _frac((r * (1 / s) - 1.0) * (amin * s), self.w)
            f *= _frac((dome_t - t) * (1 / wz), 1.0)
            np.maximum(clung, f, out=clung)
        clung *= lung_limit
        tex = self.gradient.copy()
        for plane, (kz, pz) in zip(self.tex_planes, self.tex_z, strict=True):
            tex += np.float32(6.0 * np.sin(kz * t * self.lay.z_extent + pz)) * plane
        _blend(cimg, tex, clung)

    def _ribs_and_sternum(self, t: float, cimg: np.ndarray, clung: np.ndarray,
                          ring_idx: tuple[np.ndarray, np.ndarray], ring_f: np.ndarray, ring_y: np.ndarray,
                          f_sternum: np.ndarray) -> None:
        """Rib bands on the chest-wall ring, descending towards the front; the sternum."""
        if 0.06 < t < 0.97:
            self._ribs(t, cimg, clung, ring_idx, ring_f, ring_y)
        if 0.35 < t < 0.9:
            _blend(cimg, HU_CORTEX * 0.7, f_sternum)
            clung *= 1.0 - f_sternum

    def _ribs(self, t: float, cimg: np.ndarray, clung: np.ndarray, ring_idx: tuple[np.ndarray, np.ndarray],
              ring_f: np.ndarray, ring_y: np.ndarray) -> None:
        iy, ix = ring_idx
        period = 0.095 * self.lay.z_extent
        zmm = t * self.lay.z_extent - 0.35 * ring_y + self.rib_phase * period
        ph = np.mod(zmm, period)
        d = np.abs(ph - period / 2) - (period / 2 - 0.02 * self.lay.z_extent)
        fr = np.clip(0.5 + d / max(self.sz, 1e-3), 0, 1) * ring_f
        cimg[iy, ix] += (HU_CORTEX * 0.85 - cimg[iy, ix]) * fr
        clung[iy, ix] *= 1.0 - fr
