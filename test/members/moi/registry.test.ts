import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'mrz';
import { describe, expect, it } from 'vitest';
import { mrzFor } from '../../../members/moi/card/render.js';
import { normaliseDate, normaliseKhmerName, normaliseLatinName } from '../../../members/moi/matching.js';
import { checkDigit, td1Lines } from '../../../members/moi/mrz/td1.js';
import { CivilRegistry, holderOf } from '../../../members/moi/registry.js';
import { checkUserInfo, parseUserInfo } from '../../../members/moi/userinfo.js';
import { DEFAULT_POPULATION, personAt } from '../../../members/population/population.js';
import { tempDir } from '../../support/tmp.js';

describe('civil registry', () => {
  it('holds the shared population — same people, same ID numbers — generated once', () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'registry.db');
      const started = Date.now();
      const registry = new CivilRegistry(path);
      const generationMs = Date.now() - started;
      expect(registry.size).toBe(DEFAULT_POPULATION.size);
      for (const i of [0, 1, 2500, DEFAULT_POPULATION.size - 1]) {
        const p = personAt(DEFAULT_POPULATION.seed, i);
        expect(registry.find(p.idNumber)).toEqual({
          idNumber: p.idNumber,
          firstNameKh: p.firstNameKh,
          lastNameKh: p.lastNameKh,
          firstNameEn: p.firstNameEn,
          lastNameEn: p.lastNameEn,
          gender: p.gender,
          dob: p.dob,
          issuedDate: p.idIssuedDate,
          expiredDate: p.idExpiryDate,
          province: p.address.province,
          street: p.address.street,
          faceSeed: p.faceSeed,
        });
      }
      registry.close();
      expect(generationMs).toBeLessThan(5000);
      expect(statSync(path).size).toBeLessThan(4 * 1024 * 1024);
      // A second start reads what is there; a different population is refused, not mixed in.
      const again = new CivilRegistry(path);
      expect(again.find(personAt(DEFAULT_POPULATION.seed, 9).idNumber)?.dob).toBe(personAt(DEFAULT_POPULATION.seed, 9).dob);
      again.close();
      expect(() => new CivilRegistry(path, 'other-seed', 10)).toThrow(/holds population/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('TD1 MRZ of the sample cards', () => {
  it('computes ICAO check digits (the 9303 worked example)', () => {
    expect(checkDigit('D23145890')).toBe('7');
    expect(checkDigit('L898902C3')).toBe('6');
    expect(checkDigit('740812')).toBe('2');
  });

  it('is valid for 300 people by an independent parser, and carries their data', () => {
    for (let i = 0; i < 300; i++) {
      const p = personAt(DEFAULT_POPULATION.seed, i * 13);
      const lines = mrzFor(holderOf({ ...p, issuedDate: p.idIssuedDate, expiredDate: p.idExpiryDate, province: p.address.province, street: p.address.street }));
      expect(lines.map((l) => l.length)).toEqual([30, 30, 30]);
      const r = parse(lines);
      expect(r.valid).toBe(true);
      expect(r.format).toBe('TD1');
      expect(r.fields).toMatchObject({ documentCode: 'ID', issuingState: 'KHM', documentNumber: p.idNumber, birthDate: p.dob.slice(2).replace(/-/g, ''), expirationDate: p.idExpiryDate.slice(2).replace(/-/g, ''), lastName: p.lastNameEn, firstName: p.firstNameEn, sex: p.gender === 'M' ? 'male' : 'female', nationality: 'KHM' });
    }
  });

  it('truncates long names to the line and spells spaces as fillers', () => {
    const [, , line3] = td1Lines({ documentNumber: '123456789', lastName: 'de la Cruz', firstName: 'Maria Fernanda Josefina Alexandra', sex: 'F', dob: '1990-01-02', expiry: '2030-01-02' });
    expect(line3).toBe('DE<LA<CRUZ<<MARIA<FERNANDA<JOS');
  });
});

describe('matching rules', () => {
  it('normalise case, spacing, accents, zero-width characters and date formats', () => {
    expect(normaliseLatinName('  sók-dara ')).toBe('SOK DARA');
    expect(normaliseLatinName("O'Neil")).toBe('ONEIL');
    expect(normaliseKhmerName('\u200bសុខ\u200b ')).toBe('សុខ');
    expect(normaliseKhmerName('\u17A3ក')).toBe('\u17A2ក');
    for (const d of ['1990-04-05', '1990/04/05', '05/04/1990', '05.04.1990', '05-04-1990']) expect(normaliseDate(d)).toBe('1990-04-05');
    for (const d of ['1990-4-5', '1990-02-30', '04/05/90', 'yesterday']) expect(normaliseDate(d)).toBeUndefined();
  });

  it('score the share of submitted fields that match', () => {
    const p = personAt(DEFAULT_POPULATION.seed, 5);
    const citizen = { idNumber: p.idNumber, firstNameKh: p.firstNameKh, lastNameKh: p.lastNameKh, firstNameEn: p.firstNameEn, lastNameEn: p.lastNameEn, gender: p.gender, dob: p.dob, issuedDate: p.idIssuedDate, expiredDate: p.idExpiryDate, province: '', street: '', faceSeed: 1 };
    const info = parseUserInfo({ idNumber: `${p.idNumber.slice(0, 3)} ${p.idNumber.slice(3)}`, firstNameEn: p.firstNameEn.toLowerCase(), dob: '1800-01-01', gender: p.gender.toLowerCase(), lastNameKh: null });
    expect(checkUserInfo(info, citizen)).toEqual({ idNumber: p.idNumber, score: 0.6667, incorrectFields: ['dob'] });
  });
});
