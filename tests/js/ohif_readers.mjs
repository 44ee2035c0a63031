// OHIF's DICOM readers run on our exports: prints one JSON object on stdout.
//
//   node ohif_readers.mjs sr  SR.dcm  CT_DIR   MeasurementReport.generateToolState (Cornerstone3D)
//   node ohif_readers.mjs seg SEG.dcm CT_DIR   Segmentation.createFromDICOMSegBuffer (Cornerstone3D)
//   node ohif_readers.mjs pm  PM.dcm  CT_DIR   ParametricMap.generateToolState (Cornerstone3D)
//
// CT_DIR holds the source CT slices; their headers feed the metadata provider that the adapters
// query (imagePlaneModule, generalImageModule, instance), as OHIF's provider does.
import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';
import * as core from '@cornerstonejs/core';
import { adaptersSR, adaptersSEG, adaptersPMAP } from '@cornerstonejs/adapters';

const { DicomMessage, DicomMetaDictionary } = dcmjs.data;

function readNatural(file) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const dict = DicomMessage.readFile(ab, { untilTag: '7FE00010', includeUntilTagValue: false });
  return { ab, ds: DicomMetaDictionary.naturalizeDataset(dict.dict) };
}

function loadCt(dir) {
  const byId = new Map();
  const files = fs.readdirSync(dir, { recursive: true }).map((n) => path.join(dir, n));
  for (const file of files.sort()) {
    if (!fs.statSync(file).isFile()) continue;
    let ds;
    try { ds = readNatural(file).ds; } catch { continue; }
    if (!ds.ImagePositionPatient) continue;
    byId.set(`nodulelens:${ds.SOPInstanceUID}`, ds);
  }
  const ids = [...byId.keys()].sort(
    (a, b) => Number(byId.get(a).ImagePositionPatient[2]) - Number(byId.get(b).ImagePositionPatient[2]));
  return { ids, byId };
}

function provider(byId) {
  return {
    get(type, imageId) {
      const ds = byId.get(imageId);
      if (!ds) return undefined;
      const iop = ds.ImageOrientationPatient.map(Number);
      const ps = ds.PixelSpacing.map(Number);
      switch (type) {
        case 'imagePlaneModule':
          return {
            frameOfReferenceUID: ds.FrameOfReferenceUID, rows: ds.Rows, columns: ds.Columns,
            imageOrientationPatient: iop, rowCosines: iop.slice(0, 3), columnCosines: iop.slice(3, 6),
            imagePositionPatient: ds.ImagePositionPatient.map(Number), pixelSpacing: ps,
            rowPixelSpacing: ps[0], columnPixelSpacing: ps[1], sliceThickness: Number(ds.SliceThickness),
          };
        case 'generalImageModule':
          return { sopInstanceUID: ds.SOPInstanceUID, instanceNumber: ds.InstanceNumber };
        case 'sopCommonModule':
          return { sopInstanceUID: ds.SOPInstanceUID, sopClassUID: ds.SOPClassUID };
        case 'generalSeriesModule':
          return { seriesInstanceUID: ds.SeriesInstanceUID, modality: ds.Modality };
        case 'instance':
          return ds;
        default:
          return undefined;
      }
    },
  };
}

function readSr(file, ct, meta) {
  const { ds } = readNatural(file);
  const sopToId = {};
  for (const id of ct.ids) sopToId[`${ct.byId.get(id).SOPInstanceUID}:1`] = id;
  const state = adaptersSR.Cornerstone3D.MeasurementReport.generateToolState(ds, sopToId, meta);
  const out = [];
  for (const [toolType, list] of Object.entries(state)) {
    for (const m of list) {
      const ann = m.annotation;
      const refId = ann.metadata.referencedImageId;
      const slice = refId ? ct.byId.get(refId) : undefined;
      out.push({
        toolType,
        trackingUid: m.TrackingUniqueIdentifier,
        sopInstanceUid: m.sopInstanceUid,
        referencedImagePosition: slice ? slice.ImagePositionPatient.map(Number) : null,
        points: ann.data.handles.points,
        stats: Object.values(ann.data.cachedStats || {})[0] || null,
        finding: m.description || null,
      });
    }
  }
  return { measurements: out };
}

async function readSeg(file, ct, meta) {
  const { ab } = readNatural(file);
  const seg = adaptersSEG.Cornerstone3D.Segmentation;
  const result = await seg.createFromDICOMSegBuffer(ct.ids, ab, { metadataProvider: meta });
  const segments = [];
  const info = result.segMetadata || {};
  for (const [index, d] of Object.entries(info.data || {})) {
    if (!d) continue;
    segments.push({ index: Number(index), label: d.SegmentLabel, color: d.rgba || null,
                    lab: d.RecommendedDisplayCIELabValue || null, trackingUid: d.TrackingUID || null });
  }
  const centroids = {};
  for (const [k, v] of (result.centroids || new Map()).entries()) centroids[k] = v;
  return { segments, centroids, overlapping: Boolean(result.overlapping) };
}

async function readPm(file, ct, meta) {
  const { ab } = readNatural(file);
  const pm = adaptersPMAP.Cornerstone3D.ParametricMap;
  const { pixelData } = await pm.generateToolState(ct.ids, ab, meta);
  let nonzero = 0;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < pixelData.length; i++) {
    const v = pixelData[i];
    if (v > 0) { nonzero += 1; sum += v; }
    if (v > max) max = v;
  }
  return { length: pixelData.length, nonzero, max, sum };
}

async function main() {
  const [kind, file, ctDir] = process.argv.slice(2);
  core.utilities.logger.adaptersLog?.setLevel?.('silent');
  const ct = loadCt(ctDir);
  const meta = provider(ct.byId);
  core.metaData.addProvider((type, imageId) => meta.get(type, imageId), 10000);
  const readers = { sr: readSr, seg: readSeg, pm: readPm };
  if (!readers[kind]) throw new Error(`unknown kind ${kind}`);
  const result = await readers[kind](file, ct, meta);
  process.stdout.write(JSON.stringify({ kind, nImages: ct.ids.length, ...result }) + '\n');
}

main().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
