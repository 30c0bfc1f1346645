import type { Citizen } from '../../members/moi/registry.js';

/** The `userInfo` an integrator submits to Open KYC for a registry person, every field as registered. */
export const userInfo = (c: Citizen) => ({
  idNumber: c.idNumber,
  firstNameKh: c.firstNameKh,
  lastNameKh: c.lastNameKh,
  firstNameEn: c.firstNameEn,
  lastNameEn: c.lastNameEn,
  gender: c.gender,
  dob: c.dob,
  issuedDate: c.issuedDate,
  expiredDate: c.expiredDate,
});
